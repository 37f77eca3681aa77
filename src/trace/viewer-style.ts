/** The viewer's stylesheet. */
export const VIEWER_STYLE = `
body{font:13px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{padding:10px 18px;background:#fff;border-bottom:1px solid #d8dde6}
h1{font-size:18px;margin:0 0 6px}h1 .var{color:#5a6472;font-weight:400}h2{font-size:14px;margin:10px 0 4px}h3{font-size:12px;margin:8px 0 2px;color:#5a6472}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;vertical-align:middle;color:#fff;background:#b3261e}.badge.ok{background:#2e7d32}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:6px 0}dt{color:#5a6472}dd{margin:0;overflow-wrap:anywhere}
code,pre,td,#state,.tl text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre.msg{background:#fff4f3;border-left:4px solid #b3261e;padding:6px 10px;margin:6px 0 0;white-space:pre-wrap;max-height:9em;overflow:auto}pre.msg.ok{background:#f1f8f1;border-color:#2e7d32}
nav{position:sticky;top:0;z-index:2;padding:6px 18px;background:#eef1f5;border-bottom:1px solid #d8dde6}nav button{margin-right:6px}#cur{font-weight:600;margin:0 10px}.keys{color:#5a6472;font-size:12px}
main{display:grid;grid-template-columns:minmax(0,1fr) 430px;gap:0 14px;padding:8px 18px}
#timeline{display:flex;background:#fff;border:1px solid #d8dde6}#lane-names{flex:none;border-right:1px solid #d8dde6}#lanes{overflow-x:auto;flex:1}
#list{position:relative;max-height:45vh;overflow:auto;margin-top:8px;background:#fff;border:1px solid #d8dde6}
table{border-collapse:collapse;width:100%}th{position:sticky;top:0;background:#eef1f5;text-align:left;padding:3px 8px}
td{padding:1px 8px;border-bottom:1px solid #edf0f3;vertical-align:top;overflow-wrap:anywhere;cursor:pointer}td.i{color:#8a93a0;text-align:right;width:3em}td.a{width:8em}
tr.k-step td.e{color:#8a93a0}tr.k-acquire td.e{color:#1b5e20}tr.k-release td.e{color:#0d47a1}tr.k-block td.e{color:#b3261e;font-weight:600}
tr.k-note td.e{font-style:italic;white-space:pre-wrap}tr.k-send td.e,tr.k-recv td.e{color:#00695c}
tr.verdict td{background:#fbe3e1;font-weight:600;white-space:pre-wrap}tr.sel td{background:#ffe9a8 !important}
aside{background:#fff;border:1px solid #d8dde6;padding:4px 10px;max-height:calc(100vh - 60px);overflow:auto;position:sticky;top:40px}
#state ul{list-style:none;margin:0;padding:0}#state ul.nested{padding-left:18px}#state li{padding:1px 4px;border-radius:3px}
#state .key{color:#5a6472;margin-right:8px}#state .was{display:block;color:#8a93a0;text-decoration:line-through;padding-left:16px}
#state li.chg{background:#fff3c4}#state li.new{background:#dff3e2}#state li.del{background:#fde0dd;text-decoration:line-through}.where{color:#5a6472}.none{color:#8a93a0}
.tl .grid{stroke:#eef1f5}.tl .tick{fill:#8a93a0;font-size:10px;text-anchor:middle}.tl .lane{stroke:#c9d0da}.tl .lname{font-weight:600;fill:#1d2330}
.tl .vband{fill:#fbe3e1}.tl .cursor{stroke:#f0a500;stroke-width:2}
.bar.held rect{fill:#81c784}.bar.blocked rect{fill:#e57373}.blabel{font-size:9px;fill:#10321a}
.arrow{stroke:#00897b;stroke-width:1.5}.ah{fill:#00897b}
.mark{fill:#8a93a0;stroke:#fff;cursor:pointer}.mark.k-acquire{fill:#2e7d32}.mark.k-release{fill:#1565c0}.mark.k-block{fill:#c62828}
.mark.k-send,.mark.k-recv{fill:#00897b}.mark.k-note{fill:#6d4c41}.mark.k-verdict{fill:#b3261e;r:7}.mark.sel{stroke:#f0a500;stroke-width:3}
#machines h2{margin:10px 0 2px}#machine-cards{display:flex;flex-wrap:wrap;gap:8px}.machine{background:#fff;border:1px solid #d8dde6;border-radius:4px;padding:2px 8px 4px;max-width:100%;overflow-x:auto}
.machine h3{margin:4px 0 0;color:#1d2330}.machine.active{border-color:#f0a500}.machine.refused{border-color:#b3261e;background:#fff4f3}
.pm .pstate rect{fill:#e1ecfb;stroke:#0d47a1}.pm .pstate.initial rect{stroke-width:2}.pm .pstate.final rect{stroke-dasharray:4 2}.pm .pstate.cur rect{fill:#ffd54f;stroke:#e65100;stroke-width:3}
.pm .sname{font-size:11px;text-anchor:middle;font-family:ui-monospace,Menlo,Consolas,monospace}.pm .plabel{font-size:10px;text-anchor:middle;fill:#5a6472;font-family:ui-monospace,Menlo,Consolas,monospace}
.pm .pedge{fill:none;stroke:#8a93a0;stroke-width:1.3}.pm .pedge.taken{stroke:#e65100;stroke-width:2.5}.pm .plabel.taken{fill:#e65100;font-weight:700}.pah{fill:#8a93a0}.pah-on{fill:#e65100}
.pnow{margin:2px 0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}.pedges{list-style:none;margin:0;padding:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;color:#5a6472}.pedges li.taken{color:#e65100;font-weight:700}
.lo .dep{stroke:#8a93a0;stroke-width:1.5}.lo .dep.bad{stroke:#c62828;stroke-width:3}.lo .node{fill:#e1ecfb;stroke:#0d47a1}.lo .nlabel{font-size:11px;text-anchor:middle}`;
