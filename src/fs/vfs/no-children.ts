/** The children of every non-directory: always empty. */
class NoChildren extends Map<string, never> {
  override set(): never { throw new Error('a non-directory has no children'); }
}

/**
 * One empty map that every non-directory dentry (goferfs, overlay) holds as its children: most
 * dentries are files, and a Map each would be garbage made per lookup.
 */
export const NO_CHILDREN: Map<string, never> = new NoChildren();
