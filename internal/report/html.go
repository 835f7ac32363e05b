package report

import (
	"html/template"
	"io"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// HTML writes one self-contained page (no scripts, no external resources)
// that can be attached to a CI run or mailed. html/template escapes every
// value, so a hostile file name or message cannot inject markup.
func HTML(w io.Writer, r *finding.Report, _ Options) error {
	targets, groups := byTarget(r)
	type group struct {
		Target   finding.Target
		Findings []finding.Finding
	}
	data := struct {
		R      *finding.Report
		Groups []group
	}{R: r}
	for _, t := range targets {
		data.Groups = append(data.Groups, group{t, groups[t]})
	}
	return htmlPage.Execute(w, data)
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"where":    locationText,
	"upper":    strings.ToUpper,
	"identity": htmlIdentityLines,
}).Parse(htmlIdentity + `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dockvet report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;font-family:monospace}
table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #ddd}
.sev{font-weight:bold;font-size:.8rem;padding:.1rem .4rem;border-radius:3px;color:#fff}
.critical{background:#7b1fa2}.high{background:#c62828}.medium{background:#ef6c00}.low{background:#0277bd}.info{background:#757575}
.fix{color:#555;font-size:.9rem}.muted{color:#777}code{font-size:.9em}
</style>
</head>
<body>
<h1>dockvet {{.R.Tool.Version}} report</h1>
<p>{{.R.Summary.Total}} findings: {{.R.Summary.Critical}} critical, {{.R.Summary.High}} high, {{.R.Summary.Medium}} medium, {{.R.Summary.Low}} low, {{.R.Summary.Info}} info{{if .R.Suppressed}}; {{len .R.Suppressed}} suppressed{{end}}{{if .R.Errors}}; <strong>{{len .R.Errors}} input(s) could not be audited — this report is incomplete</strong>{{end}}.</p>
{{template "identity" .R}}
{{range .R.Errors}}<p><span class="sev high">ERROR</span> <code>{{.Target}}</code>: {{.Message}}</p>
{{end}}
{{range .Groups}}<h2>{{.Target.Name}} <span class="muted">({{.Target.Kind}})</span></h2>
{{if .Findings}}<table>
<tr><th>Severity</th><th>Rule</th><th>Where</th><th>Finding</th></tr>
{{range .Findings}}<tr><td><span class="sev {{.Severity}}">{{upper .Severity.String}}</span></td><td><code>{{.RuleID}}</code><br><span class="muted">{{.Practice}}{{if .CIS}} · CIS {{.CIS}}{{end}}</span></td><td>{{where .}}</td><td>{{.Message}}<div class="fix">{{.Remediation}}</div></td></tr>
{{end}}</table>
{{else}}<p class="muted">No findings.</p>
{{end}}{{end}}
{{if .R.Suppressed}}<h2>Suppressed</h2>
<table><tr><th>Rule</th><th>Target</th><th>By</th><th>Reason</th></tr>
{{range .R.Suppressed}}<tr><td><code>{{.RuleID}}</code></td><td>{{.Target}}</td><td>{{.By}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{end}}
</body>
</html>
`))
