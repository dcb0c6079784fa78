// Server-rendered HTML with every interpolated value escaped: `html` returns markup, `raw` marks markup
// that is already safe (another `html` result). No template engine and no front-end build for one page.

export class Markup {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (value: unknown) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function render(value: unknown): string {
  if (value instanceof Markup) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escape(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  return new Markup(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]) : ""), ""));
}

export const raw = (trusted: string) => new Markup(trusted);

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.7rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff}main{padding:1rem 1.5rem;max-width:1200px}section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem}
h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:.2rem 0 .6rem}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eef0f3;vertical-align:top;font-size:.9rem}th{color:#5b6473;font-weight:600}
.held,.revoked,.disabled{color:#a15c00;font-weight:600}.failed,.aborted{color:#b00020;font-weight:600}.succeeded{color:#1b7f3b}.muted{color:#6b7280}
button{font:inherit;padding:.25rem .8rem;border-radius:4px;border:1px solid #9aa3b2;background:#fff;cursor:pointer}button.primary{background:#1b7f3b;color:#fff;border-color:#1b7f3b}
form.inline{display:inline}figure{margin:0}.runs-chart details{margin:.2rem 0 .4rem}.runs-chart summary{cursor:pointer;color:#5b6473;font-size:.85rem}
g.run:hover>rect:first-of-type{fill:#eef2fb}code{font-size:.85em}
.connection-status{font-size:.78rem;padding:0 .35rem;border-radius:3px;background:#eef0f3}.audit td:first-child{white-space:nowrap}.audit td:last-child{min-width:16rem}.audit .muted{font-size:.78rem}.legend span{display:inline-block;margin-right:1rem}.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}`;

export function page(title: string, body: Markup, signedIn: boolean): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · idsync</title><style>${raw(STYLE)}</style></head><body>
<header><a href="/"><strong>idsync</strong></a>${signedIn ? html`<form class="inline" method="post" action="/logout"><button>Sign out</button></form>` : ""}</header>
<main>${body}</main></body></html>`.value;
}
