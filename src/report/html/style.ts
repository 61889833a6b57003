/**
 * The HTML report's only stylesheet, inlined: light and dark colours
 * (prefers-color-scheme), readable from 375 px up, the matrix scrolling
 * sideways with its spec column kept in view. No fonts or images fetched.
 */
export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --panel: #f6f8fa; --link: #0550ae;
  --pass: #116329; --pass-bg: #dafbe1; --warn: #7d4e00; --warn-bg: #fff8c5;
  --fail: #a40e26; --fail-bg: #ffebe9; --na: #59636e; --na-bg: #eef1f4;
  --skip: #59636e; --skip-bg: #f6f8fa; --error: #6639ba; --error-bg: #fbefff;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --border: #3d444d; --panel: #151b23; --link: #4493f8;
    --pass: #3fb950; --pass-bg: #0f2a1a; --warn: #d29922; --warn-bg: #2e2210;
    --fail: #ff7b72; --fail-bg: #3a1418; --na: #9198a1; --na-bg: #1f242c;
    --skip: #9198a1; --skip-bg: #151b23; --error: #bc8cff; --error-bg: #271a3d;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
a { color: var(--link); }
header.top, main, body > footer { max-width: 72rem; margin: 0 auto; padding: 0 12px; }
h1 { font-size: 1.5rem; margin: 16px 0 4px; }
h2 { font-size: 1.3rem; margin: 28px 0 8px; padding-top: 8px; border-top: 2px solid var(--border); overflow-wrap: anywhere; }
h3 { font-size: 1.1rem; margin: 20px 0 6px; }
h4 { font-size: 1rem; margin: 18px 0 4px; overflow-wrap: anywhere; }
h5 { font-size: .9rem; margin: 10px 0 2px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, "DejaVu Sans Mono", monospace; font-size: .85em; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.muted, .meta { color: var(--muted); }
.meta { margin: 0 0 8px; }
.sw { color: var(--muted); font-weight: normal; font-size: .9em; }
[id] { scroll-margin-top: 8px; }
details.check:target, section.spec:target { outline: 2px solid var(--link); outline-offset: 2px; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; }
table { border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--border); }
thead th { font-size: .85em; color: var(--muted); font-weight: 600; }

.v { display: inline-block; padding: 0 6px; border-radius: 4px; font-weight: 600; font-size: .85em; white-space: nowrap; }
.v-pass, .s-compliant { color: var(--pass); background: var(--pass-bg); }
.v-warn { color: var(--warn); background: var(--warn-bg); }
.v-fail, .s-not-compliant { color: var(--fail); background: var(--fail-bg); }
.v-na { color: var(--na); background: var(--na-bg); }
.v-skip, .s-undetermined { color: var(--skip); background: var(--skip-bg); }
.v-error { color: var(--error); background: var(--error-bg); }

.banner { margin: 10px 0; padding: 8px 12px; border-left: 6px solid; border-radius: 4px; }
.banner-fail { border-color: var(--fail); background: var(--fail-bg); }
.banner-warn { border-color: var(--warn); background: var(--warn-bg); }
.banner-info { border-color: var(--border); background: var(--panel); }
.banner strong { color: inherit; }
.flag { display: block; font-size: .8em; font-weight: 700; }
.flag-fail { color: var(--fail); }
.flag-warn { color: var(--warn); }

nav.targets ul { display: flex; flex-wrap: wrap; gap: 4px 14px; list-style: none; padding: 0; margin: 4px 0; }
nav.targets li::before { content: "→ "; color: var(--muted); }

/* The matrix: specs as rows, servers as columns; the spec column stays in view while it scrolls. */
table.matrix { width: auto; }
.matrix th.spec, .matrix th.corner { position: sticky; left: 0; z-index: 1; background: var(--bg);
  min-width: 8rem; max-width: 15rem; box-shadow: 1px 0 0 var(--border); }
.matrix th.spec { font-weight: 600; }
.matrix th.spec .name { display: block; font-weight: normal; font-size: .8em; color: var(--muted); }
.matrix th.spec .also { display: block; font-weight: normal; font-size: .75em; color: var(--muted); }
.matrix th.server { min-width: 9rem; vertical-align: bottom; }
.matrix th.server > a { font-size: 1rem; color: var(--link); overflow-wrap: break-word; }
.matrix th.server .sw { display: block; }
.matrix ul.levels { list-style: none; margin: 4px 0 0; padding: 0; }
.matrix ul.levels li { margin: 2px 0; }
.matrix tr.group th { background: var(--panel); font-size: .9em; padding-top: 8px; }
.matrix tr.group th span { position: sticky; left: 8px; }
.matrix td.cell { padding: 0; }
.matrix td.cell a { display: block; padding: 4px 8px; color: inherit; text-decoration: none; }
.matrix td.cell a:hover, .matrix td.cell a:focus { text-decoration: underline; }
.matrix td.cell .aw { display: block; font-size: .75em; color: var(--muted); white-space: nowrap; }
.matrix td.c-pass { background: var(--pass-bg); }
.matrix td.c-fail { background: var(--fail-bg); }
.matrix td.c-warn { background: var(--warn-bg); }
.matrix td.c-error { background: var(--error-bg); }
.matrix td.none { color: var(--muted); padding: 4px 8px; }

dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: 4px 16px; margin: 8px 0; }
dl.facts dt, dl.meta dt { font-size: .8em; color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.meta { display: flex; flex-wrap: wrap; gap: 2px 16px; margin: 6px 0; }
dl.meta div { display: flex; gap: 4px; align-items: baseline; }
dl.meta dd { margin: 0; }
p.counts .v { margin-right: 4px; }

.problems { border: 2px solid var(--fail); border-radius: 6px; padding: 4px 12px; margin: 10px 0; }
.problems h3 { margin-top: 6px; color: var(--fail); }
ul.reqs { padding-left: 1.2em; }
ul.reqs li { margin: 2px 0; }

section.spec { border-top: 1px solid var(--border); margin-top: 12px; }
section.spec > h4 .v { margin-left: 6px; vertical-align: 1px; }
section.spec > h5.section { margin: 12px 0 4px; font-size: .95em; }
details.check { border: 1px solid var(--border); border-radius: 6px; margin: 6px 0; background: var(--bg); }
details.check[open] { background: var(--panel); }
details.check > summary { cursor: pointer; padding: 6px 8px; list-style-position: outside; margin-left: 1.2em; }
details.check > summary .id { color: var(--muted); font-size: .8em; overflow-wrap: anywhere; }
details.check > .body { padding: 0 12px 10px; }
blockquote.req { margin: 8px 0; padding: 6px 12px; border-left: 4px solid var(--link); background: var(--bg); }
blockquote.req p { margin: 0 0 4px; font-style: italic; }
blockquote.req footer { font-size: .85em; color: var(--muted); }
dl.ea { margin: 8px 0; }
dl.ea dt { font-weight: 700; font-size: .85em; }
dl.ea dd { margin: 0 0 6px; padding: 4px 8px; background: var(--bg); border: 1px solid var(--border); border-radius: 4px; }
dl.ea dd.actual { border-color: var(--fail); }
.ev { margin: 8px 0; }
.ev table { font-size: .85em; }
.ev caption { text-align: left; font-weight: 600; font-size: .9em; }
details.transcript > summary { cursor: pointer; font-weight: 600; font-size: .9em; }
ol.transcript { list-style: none; margin: 4px 0; padding: 0; font-size: .9em; }
ol.transcript li { display: grid; grid-template-columns: 4.5em 4.5em 1.2em 1fr; gap: 0 6px; padding: 3px 0; border-bottom: 1px dashed var(--border); }
ol.transcript .t, ol.transcript .actor { color: var(--muted); font-size: .8em; overflow-wrap: anywhere; }
ol.transcript .dir { font-weight: 700; }
ol.transcript li.dir-out .dir { color: var(--link); }
ol.transcript li.dir-in .dir { color: var(--pass); }
ol.transcript li.dir-note { color: var(--muted); font-style: italic; }
.fix { margin: 8px 0; padding: 4px 12px; border: 1px dashed var(--border); border-radius: 6px; }
.fix ul { margin: 4px 0; padding-left: 1.2em; }
body > footer { color: var(--muted); font-size: .85em; padding: 24px 12px; }

@media (max-width: 600px) {
  body { font-size: 14px; }
  .matrix th.spec, .matrix th.corner { min-width: 6.5rem; max-width: 8.5rem; }
  .matrix th.server { min-width: 7.5rem; }
  ol.transcript li { grid-template-columns: auto auto 1fr; }
  ol.transcript li > pre, ol.transcript li > .note { grid-column: 1 / -1; }
  details.check > .body { padding: 0 8px 8px; }
}
`;
