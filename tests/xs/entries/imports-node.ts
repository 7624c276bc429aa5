// Deliberately wrong XS entry: it imports a Node built-in, which the bundle script must refuse by name.
import { createHash } from 'node:crypto';

export const digest = createHash('sha256').digest('hex');
