/**
 * Glob patterns as function folders use them ("templates/**", "*.html", "fonts/*.woff2"), turned
 * into anchored regular expressions over posix relative paths. `**` spans directories, `*` and `?`
 * stay within one segment, `[abc]` is a class; anything else is literal. Small on purpose: the
 * same rules run in the CLI and the server, and node 20 has no glob matcher of its own.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atSegmentStart = i === 0 || glob[i - 1] === '/';
        i++;
        if (glob[i + 1] === '/' && atSegmentStart) {
          // "**/" matches zero or more whole directories.
          i++;
          re += '(?:[^/]+/)*';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
      } else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else {
      re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** Whether `rel` or one of its parent directories matches: naming a folder takes all of it. */
export function matchesPathOrParent(re: RegExp, rel: string): boolean {
  if (re.test(rel)) return true;
  for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) {
    if (re.test(rel.slice(0, i))) return true;
  }
  return false;
}
