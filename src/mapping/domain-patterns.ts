// Which of an account's sending domains a rule's domain pattern names.
/** A sending domain, or `*.` and a domain (every subdomain of it). */
export const DOMAIN_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export interface Domain {
  readonly id: string;
  readonly name: string;
}

/** `example.com` names itself; `*.example.com` names every subdomain of it (at any depth), not itself. */
export function domainsMatching(pattern: string, domains: readonly Domain[]): Domain[] {
  if (!pattern.startsWith("*.")) return domains.filter((d) => d.name === pattern);
  const suffix = pattern.slice(1);
  return domains.filter((d) => d.name.endsWith(suffix));
}
