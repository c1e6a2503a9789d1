import { globToRegExp, matchesPathOrParent } from './glob.ts';

interface IgnoreRule {
  re: RegExp;
  negated: boolean;
}

/**
 * A `.hearthignore`, read like a .gitignore: one pattern a line, `#` comments, `!` re-includes,
 * a pattern without a "/" matches at any depth, a leading "/" anchors it to the folder, a trailing
 * "/" (directories) and a folder's name both take everything under it. The last matching line wins.
 */
export class IgnoreFile {
  private readonly rules: IgnoreRule[];

  constructor(text: string) {
    this.rules = [];
    for (const raw of text.split(/\r?\n/)) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const negated = line.startsWith('!');
      if (negated) line = line.slice(1);
      line = line.replace(/\/+$/, '');
      if (line === '') continue;
      const anchored = line.includes('/');
      const glob = line.replace(/^\//, '');
      this.rules.push({ re: globToRegExp(anchored ? glob : `**/${glob}`), negated });
    }
  }

  ignores(rel: string): boolean {
    let ignored = false;
    for (const rule of this.rules) {
      if (matchesPathOrParent(rule.re, rel)) ignored = !rule.negated;
    }
    return ignored;
  }
}
