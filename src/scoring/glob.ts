/** Check-id globs as used by suites and --only/--skip: "*" matches any run of characters. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

export function matchesAny(id: string, globs: string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(id));
}
