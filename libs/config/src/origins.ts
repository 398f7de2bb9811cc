import { parseList, type ParsedList } from '@conveyor/egress';

/**
 * Browser origins, `https://app.example.com[:port]`, normalised as browsers send them in `Origin`.
 * No wildcard: a credentialed request from any origin is exactly what CORS must not allow.
 */
export function parseOrigins(list: string): ParsedList<string> {
  return parseList(list, (entry) => {
    if (!URL.canParse(entry)) return null;
    const url = new URL(entry);
    const bare = (url.protocol === 'http:' || url.protocol === 'https:') && entry.replace(/\/$/, '').toLowerCase() === url.origin;
    return bare ? url.origin : null;
  });
}
