package report

// htmlTemplate is the page HTML writes. Everything it shows comes from the
// page value; the only style rules not written here are the filters'
// (FilterCSS), which depend on what the report holds.
const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dockvet {{.R.Tool.Version}}">
<title>dockvet report: {{.R.Summary.Total}} findings</title>
<style>
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
.page{max-width:72rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.5rem;margin:.2rem 0 .4rem}
h2{font-size:1.2rem;margin:2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid #d8dee4}
h3{font-size:1rem;margin:1.2rem 0 .4rem;overflow-wrap:anywhere}
a{color:#0550ae}
code,pre{font:.88em/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem;border-radius:4px}
.muted{color:#59636e}
.lead{font-size:1.05rem;margin:.2rem 0}
.details{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.6rem 0;font-size:.92rem}
.details dt{color:#59636e}.details dd{margin:0;overflow-wrap:anywhere}
.sev{display:inline-block;font-weight:700;font-size:.75rem;letter-spacing:.02em;padding:.05rem .45rem;border-radius:3px;color:#fff;vertical-align:.08em}
.critical{background:#6f1d99}.high{background:#c62828}.medium{background:#b35900}.low{background:#0b6aa2}.info{background:#6a737d}
.pass{background:#1a7f37}.warn{background:#c62828}.note{background:#9a6700}
.sev,.seg,.finding,.legend i{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.error{border:1px solid #c62828;background:#fff5f5;padding:.5rem .8rem;border-radius:4px;overflow-wrap:anywhere}
.chart{margin:.6rem 0}
.chart .row{display:grid;grid-template-columns:minmax(9rem,17rem) 1fr 2.5rem;gap:.6rem;align-items:center;margin:.3rem 0}
.chart .lab{overflow-wrap:anywhere;text-decoration:none}
.chart .lab .muted{font-size:.82rem}
.chart .n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:flex;height:1.15rem;background:#eef1f4;border-radius:3px;overflow:hidden}
.seg{display:block;height:100%;min-width:3px}
.seg.critical{background:#6f1d99}.seg.high{background:#c62828}.seg.medium{background:#d97706}.seg.low{background:#0b6aa2}.seg.info{background:#9aa4ae}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.85rem;margin:.4rem 0 1rem;padding:0;list-style:none}
.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-.1em}
table{border-collapse:collapse;width:100%;table-layout:fixed;font-size:.92rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .45rem;border-bottom:1px solid #e4e8ec;overflow-wrap:anywhere}
th{font-weight:600;background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.targets col.kind{width:7rem}.targets col.n{width:5rem}
.flt{position:absolute;opacity:0;width:1px;height:1px;margin:0;pointer-events:none}
.filters fieldset{border:1px solid #d8dee4;border-radius:6px;margin:.5rem 0;padding:.4rem .6rem .6rem;display:flex;flex-wrap:wrap;gap:.35rem;min-width:0}
.filters legend{font-weight:600;font-size:.9rem;padding:0 .3rem}
.filters label{cursor:pointer;user-select:none;border:1px solid #c7ced5;border-radius:1rem;padding:.05rem .65rem;font-size:.88rem;overflow-wrap:anywhere;max-width:100%}
.filters label b{font-weight:600}
.group{margin-top:1.6rem}
.group h2 .muted{font-weight:400;font-size:.9rem}
blockquote{margin:.4rem 0 .8rem;padding:.3rem .9rem;border-left:4px solid #d8dee4;color:#424a53;font-style:italic}
blockquote cite{display:block;font-style:normal;font-size:.82rem;color:#59636e;margin-top:.2rem}
.finding{border:1px solid #e1e6eb;border-left:5px solid #6a737d;border-radius:5px;padding:.55rem .8rem;margin:.6rem 0;break-inside:avoid;overflow-wrap:anywhere}
.finding.s-critical{border-left-color:#6f1d99}.finding.s-high{border-left-color:#c62828}.finding.s-medium{border-left-color:#d97706}.finding.s-low{border-left-color:#0b6aa2}
.finding .head{display:flex;flex-wrap:wrap;gap:.2rem .5rem;align-items:baseline}
.finding .title{font-weight:600}
.finding .where{font-size:.88rem;color:#59636e}
.finding .msg{margin:.3rem 0}
.finding .fix{font-size:.92rem;background:#f6f8fa;border-radius:4px;padding:.3rem .6rem}
.finding .fix p{margin:.15rem 0}
.finding .links{font-size:.85rem;margin-top:.3rem}
.finding .links a{margin-right:.6rem}
.layers td:nth-child(5){font-size:.88rem}
.layers col.i{width:2.6rem}.layers col.s{width:5.6rem}.layers col.w{width:5.6rem}.layers col.f{width:4.2rem}
.added{margin:.25rem 0 0;padding-left:1.1rem;color:#424a53}
.bench col.st{width:4.4rem}.bench col.id{width:4.6rem}.bench col.r{width:4.6rem}
.bench .nt{display:block;font-size:.85rem;color:#59636e}
.score{background:#f6f8fa;border:1px solid #d8dee4;border-radius:6px;padding:.6rem .8rem}
.score b{font-size:1.3rem}
{{if .Groups}}.group{display:none}{{end}}
@media (max-width:700px){
 .page{padding:.8rem}
 .chart .row{grid-template-columns:1fr 2.5rem}
 .chart .lab{grid-column:1/-1}
 .details{grid-template-columns:1fr}
 .details dd{margin-bottom:.3rem}
 .targets col.kind{width:5.5rem}.targets col.n{width:5.4rem}
}
@media print{
 body{font-size:10.5pt}
 .page{max-width:none;padding:0}
 .filters{display:none}
 h2{break-after:avoid}
 a{color:inherit;text-decoration:none}
 .finding .links a::after{content:" <" attr(href) ">";font-size:.8em;color:#59636e}
}
{{.FilterCSS}}</style>
</head>
<body>
{{range .Severities}}<input type="checkbox" class="flt" id="{{.ID}}" checked>
{{end}}{{range .Kinds}}<input type="checkbox" class="flt" id="{{.ID}}" checked>
{{end}}{{range .TargetFlt}}<input type="checkbox" class="flt" id="{{.ID}}" checked>
{{end}}<div class="page">
<header>
<h1>dockvet {{.R.Tool.Version}} report</h1>
<p class="lead"><strong>{{.R.Summary.Total}} findings</strong> in {{len .Targets}} target(s): {{.R.Summary.Critical}} critical, {{.R.Summary.High}} high, {{.R.Summary.Medium}} medium, {{.R.Summary.Low}} low, {{.R.Summary.Info}} info{{if .R.Suppressed}}; {{len .R.Suppressed}} suppressed{{end}}.</p>
<dl class="details"><dt>tool</dt><dd>{{.R.Tool.Name}} {{.R.Tool.Version}}</dd>{{range .Details}}<dt>{{.Label}}</dt><dd>{{.Value}}</dd>{{end}}</dl>
{{if .Identity}}<ul class="identity muted">{{range .Identity}}<li>{{.}}</li>{{end}}</ul>{{end}}
</header>
{{if .R.Errors}}<section class="error" id="errors"><strong>{{len .R.Errors}} input(s) could not be audited — this report is incomplete.</strong>
<ul>{{range .R.Errors}}<li><code>{{.Target}}</code>: {{.Message}}</li>{{end}}</ul></section>
{{end}}
<section id="summary">
<h2>Findings by practice and severity</h2>
{{if .Chart}}<div class="chart" role="img" aria-label="Findings by practice and severity">
{{range .Chart}}<div class="row"><a class="lab" href="#{{.ID}}">{{.Title}} <span class="muted">{{.Practice}}</span></a><div class="bar">{{range .Segments}}<span class="seg {{.Severity}}" style="{{.Style}}" title="{{.Count}} {{.Severity}}"></span>{{end}}</div><span class="n">{{.Total}}</span></div>
{{end}}</div>
<ul class="legend">{{range .Severities}}<li><i class="seg {{.Label}}"></i>{{.Label}} {{.Count}}</li>{{end}}</ul>
{{else}}<p>No findings.</p>{{end}}
<table class="targets"><colgroup><col><col class="kind"><col class="n"></colgroup>
<thead><tr><th>Target</th><th>Kind</th><th class="num">Findings</th></tr></thead>
<tbody>{{range .Targets}}<tr><td><code>{{.Name}}</code>{{range .Details}}<br><span class="muted">{{.Label}}: {{.Value}}</span>{{end}}</td><td>{{.Kind}}</td><td class="num">{{.Count}}</td></tr>
{{end}}</tbody></table>
</section>
{{if .Groups}}<section class="filters" id="filters" aria-label="Filters">
<h2>Filters</h2>
<fieldset><legend>Severity</legend>{{range .Severities}}<label for="{{.ID}}"><b>{{upper .Label}}</b> {{.Count}}</label>{{end}}</fieldset>
<fieldset><legend>Surface</legend>{{range .Kinds}}<label for="{{.ID}}">{{.Label}} {{.Count}}</label>{{end}}</fieldset>
<fieldset><legend>Target</legend>{{range .TargetFlt}}<label for="{{.ID}}">{{.Label}} {{.Count}}</label>{{end}}</fieldset>
</section>{{end}}
{{if .Bench}}<section id="benchmark" class="{{.BenchClass}}">
<h2>CIS Docker Benchmark 1.6.0</h2>
<p class="score"><b>Score {{.Score.Score}}</b> — {{.Score.Checks}} checks: {{.Score.Passed}} passed, {{.Score.Warnings}} warnings, {{.Score.Info}} not checked, {{.Score.Notes}} to check by hand.<br>{{.ScoreText}}</p>
{{range .Bench}}<h3>{{.Name}}</h3>
<table class="bench"><colgroup><col class="st"><col class="id"><col class="r"><col></colgroup>
<thead><tr><th>Status</th><th>CIS</th><th>Rule</th><th>Check</th></tr></thead><tbody>
{{range .Checks}}<tr><td><span class="sev {{.Status}}">{{status .Status}}</span></td><td>{{if .CIS}}{{.CIS}}{{else}}—{{end}}</td><td><a href="{{ruleURL .RuleID}}">{{.RuleID}}</a></td><td>{{.Title}}{{if .Manual}} <span class="muted">(manual)</span>{{end}}{{if and .Note (ne (status .Status) "PASS")}}<span class="nt">{{.Note}}</span>{{end}}</td></tr>
{{end}}</tbody></table>
{{end}}</section>{{end}}
<main id="findings">
{{range .Groups}}<section class="group" id="{{.ID}}">
<h2>{{.Seed.Title}} <span class="muted">· {{.Practice}} · {{len .Findings}} finding(s)</span></h2>
<blockquote>{{.Seed.Advice}}<cite>— the practice as the seed article puts it</cite></blockquote>
{{range .Findings}}<article class="finding {{.Classes}}" id="{{.Anchor}}">
<div class="head"><span class="sev {{.F.Severity}}">{{upper .F.Severity.String}}</span> <a href="{{ruleURL .F.RuleID}}"><code>{{.F.RuleID}}</code></a> <span class="title">{{.F.Title}}</span>{{if .F.CIS}} <span class="muted">CIS {{.F.CIS}}</span>{{end}}</div>
<div class="where"><code>{{.Target}}</code>{{if .Where}} · {{.Where}}{{end}} <span class="muted">({{.F.TargetKind}})</span></div>
<p class="msg">{{.F.Message}}</p>
<div class="fix">{{.Remediation}}</div>
{{if or .Advisories .References}}<div class="links">{{range .Advisories}}<a href="{{.URL}}">{{.Text}}</a>{{end}}{{range .References}}<a href="{{.URL}}">{{.Text}}</a>{{end}}</div>{{end}}
</article>
{{end}}</section>
{{end}}</main>
{{range .Layers}}<section class="layers {{.Classes}}">
<h2>Layers of <code>{{.Target}}</code></h2>
<p class="muted">{{len .Layers}} layers, {{bytes .Size}} of files, {{bytes .Wasted}} wasted (deleted or overwritten by a later layer, still shipped).</p>
<table class="layers"><colgroup><col class="i"><col class="s"><col class="w"><col class="f"><col></colgroup>
<thead><tr><th class="num">#</th><th class="num">Size</th><th class="num">Wasted</th><th class="num">Files</th><th>Created by, and what it added</th></tr></thead><tbody>
{{range .Layers}}<tr><td class="num">{{.Index}}</td><td class="num">{{bytes .Size}}</td><td class="num">{{bytes .Wasted}}</td><td class="num">{{.Files}}</td><td>{{if .CreatedBy}}<code>{{.CreatedBy}}</code>{{else}}<span class="muted">no history</span>{{end}}
{{if or .Largest .Packages .Findings}}<ul class="added">{{if .Findings}}<li>findings: {{range .Findings}}<a href="{{.URL}}">{{.Text}}</a> {{end}}</li>{{end}}{{if .Packages}}<li>{{.Packages}}</li>{{end}}{{range .Largest}}<li><code>{{.Path}}</code> {{bytes .Size}}</li>{{end}}</ul>{{end}}</td></tr>
{{end}}</tbody></table>
</section>
{{end}}
{{if .R.Suppressed}}<section id="suppressed">
<h2>Suppressed ({{len .R.Suppressed}})</h2>
<table><thead><tr><th>Rule</th><th>Where</th><th>By</th><th>Reason</th></tr></thead><tbody>
{{range .R.Suppressed}}<tr><td><a href="{{ruleURL .RuleID}}"><code>{{.RuleID}}</code></a></td><td><code>{{.Target}}</code>{{if .Location.Line}} line {{.Location.Line}}{{end}}</td><td>{{.By}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody></table>
</section>{{end}}
<footer><p class="muted">Written by dockvet {{.R.Tool.Version}}. <code>dockvet rules ID</code> explains a rule.</p></footer>
</div>
</body>
</html>
`
