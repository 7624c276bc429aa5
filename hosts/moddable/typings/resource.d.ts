// "Resource" (documentation/files/files.md, class Resource): read-only data built into the firmware image.
// The instance is a host buffer mapped from flash; typed as ArrayBuffer here because views accept it like one.
// Never write through a view of it.
declare module 'Resource' {
  const Resource: {
    new (path: string): ArrayBuffer;
    exists(path: string): boolean;
  };
  export default Resource;
}
