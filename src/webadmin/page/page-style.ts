/** The web admin page's stylesheet: system fonts, nothing fetched. */
export const PAGE_STYLE = `
body { font: 14px system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
#login { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 1.5rem; border-radius: 6px; box-shadow: 0 1px 4px #0002; }
#login label { display: block; margin: .5rem 0; }
#login input { width: 100%; box-sizing: border-box; }
.or { color: #666; margin: 1rem 0 0; }
header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: #223; color: #fff; }
header nav { flex: 1; display: flex; gap: .25rem; }
header nav button[aria-current="page"] { background: #fff; color: #223; }
main, .view { padding: 0 1rem 1rem; }
table { border-collapse: collapse; background: #fff; margin: .5rem 0; }
th, td { border: 1px solid #d0d4da; padding: .2rem .45rem; text-align: left; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
form { margin: .5rem 0; }
.error, #message.error { color: #b00020; }
#message { min-height: 1.2em; margin: .5rem 1rem; white-space: pre-wrap; }
#confirm { margin: .5rem 1rem; padding: .5rem; background: #fff3cd; border: 1px solid #e0c060; }
.chart svg { background: #fff; border: 1px solid #d0d4da; }
.legend span { margin-right: 1rem; }
.columns { display: flex; gap: 2rem; flex-wrap: wrap; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: 600; }
`;
