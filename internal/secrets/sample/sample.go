// Package sample fabricates secrets in the exact formats the secret rules
// recognise, each in the kind of text it is found in (a .env line, a
// kubeconfig, a PEM file). Tests, the labelled corpus and the benchmark
// corpus plant them; none of them grants anything.
package sample

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Secret is one fabricated secret in its context.
type Secret struct {
	// RuleID is the rule that must report it.
	RuleID string
	// Path is where the text would live; rules restricted to file names
	// (.pypirc, .git-credentials) need it.
	Path string
	// Text is the content holding the secret.
	Text string
	// Secret is the exact string the rule must report.
	Secret string
	// Also lists other secrets the text rightly holds, with the rules
	// that report them (an AWS key ID next to its secret).
	Also []Also
}

// Also is another secret in a sample's text.
type Also struct {
	RuleID string
	Secret string
}

const (
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerc = "abcdefghijklmnopqrstuvwxyz"
	digits = "0123456789"
	alnum  = upper + lowerc + digits
	hexd   = "0123456789abcdef"
	b32    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64    = alnum + "+/"
	urlb64 = alnum + "-_"
)

// gen draws random strings from one source.
type gen struct{ r *rand.Rand }

func (g gen) s(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return b
}

func (g gen) b64(n int) string { return base64.StdEncoding.EncodeToString(g.bytes(n)) }

func (g gen) uuid() string {
	h := g.s(hexd, 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// github makes a prefixed GitHub token with a valid checksum.
func (g gen) github(prefix string) string {
	random := g.s(alnum, 30)
	v := crc32.ChecksumIEEE([]byte(random))
	sum := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		sum[i] = alnum62[v%62]
		v /= 62
	}
	return prefix + random + string(sum)
}

const alnum62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// awsSecret is a 40-character secret access key.
func (g gen) awsSecret() string {
	for {
		s := base64.StdEncoding.EncodeToString(g.bytes(30))
		if strings.ContainsAny(s, digits) && strings.ContainsAny(s, upper) && strings.ContainsAny(s, lowerc) {
			return s
		}
	}
}

func (g gen) awsID(prefix string) string { return prefix + g.s(b32, 16) }

// wrap breaks base64 into PEM lines.
func wrap(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width])
		b.WriteByte('\n')
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}

// pemText is a PEM block and its body as the rules report it.
func pemText(label string, der []byte) (text, body string) {
	body = wrap(base64.StdEncoding.EncodeToString(der), 64)
	return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n", body
}

// Real keys are slow to make; the corpus needs a few, made once.
var keys = sync.OnceValue(func() (k struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}) {
	var err error
	if k.rsa, err = rsa.GenerateKey(crand.Reader, 1024); err != nil {
		panic(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), crand.Reader); err != nil {
		panic(err)
	}
	_, k.ed, err = ed25519.GenerateKey(crand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

func mustDER(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// bech32 encodes data (5-bit values) with a checksum.
func bech32(hrp string, data []byte) string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	values := make([]int, 0, len(hrp)*2+1+len(data)+6)
	for i := 0; i < len(hrp); i++ {
		values = append(values, int(hrp[i]>>5))
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, int(hrp[i]&31))
	}
	for _, d := range data {
		values = append(values, int(d))
	}
	values = append(values, 0, 0, 0, 0, 0, 0)
	gen := [5]int{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := 1
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ v
		for i := 0; i < 5; i++ {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	chk ^= 1
	var b strings.Builder
	b.WriteString(hrp + "1")
	for _, d := range data {
		b.WriteByte(charset[d])
	}
	for i := 0; i < 6; i++ {
		b.WriteByte(charset[(chk>>(5*(5-i)))&31])
	}
	return b.String()
}

func (g gen) jwt(claims string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(g.bytes(32))
}

// GitHubToken fabricates a classic GitHub personal access token (ghp_…)
// with a valid checksum, from the seeded source: what tests plant when
// they need one realistic secret (it grants nothing).
func GitHubToken(seed uint64) string {
	return gen{rand.New(rand.NewPCG(seed, seed^0x5eed))}.github("ghp_")
}

// AWSKeyIDs fabricates n distinct AWS access key IDs (AKIA…), one a line,
// drawing from r: what tests of the secret caps plant in bulk. The last
// four characters count, so the IDs are distinct for n up to 32^4
// (1,048,576); the first twelve are random.
func AWSKeyIDs(n int, r *rand.Rand) []byte {
	var b bytes.Buffer
	id := make([]byte, 16)
	for i := range n {
		for k := 0; k < 12; k++ {
			id[k] = b32[r.IntN(32)]
		}
		// Each base-32 digit of i, spread over the alphabet differently at
		// each position (7 is prime to 32): distinct IDs without the
		// runs of one letter that would lower their entropy.
		for k, v := 12, i; k < 16; k, v = k+1, v/32 {
			id[k] = b32[(v%32*7+k*13)%32]
		}
		b.WriteString("AKIA")
		b.Write(id)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// All fabricates one secret for every rule, each in a typical context,
// from the seeded source: the same seed gives the same text (apart from
// the real key material of the PEM rules, which comes from crypto/rand).
func All(seed uint64) []Secret {
	g := gen{rand.New(rand.NewPCG(seed, seed^0x5eed))}
	var out []Secret
	add := func(id, path, text, secret string) {
		out = append(out, Secret{RuleID: id, Path: path, Text: text, Secret: secret})
	}
	k := keys()

	// Private keys and certificates.
	{
		t, b := pemText("PRIVATE KEY", mustDER(x509.MarshalPKCS8PrivateKey(k.ed)))
		add("DV7001", "etc/ssl/private/server.key", t, b)
		t, b = pemText("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa))
		add("DV7013", "root/.ssh/id_rsa", t, b)
		t, b = pemText("EC PRIVATE KEY", mustDER(x509.MarshalECPrivateKey(k.ec)))
		add("DV7014", "app/certs/ec.pem", t, b)
		dsa := struct{ Version, P, Q, G, Y, X *big.Int }{big.NewInt(0), new(big.Int).SetBytes(g.bytes(128)), new(big.Int).SetBytes(g.bytes(20)), new(big.Int).SetBytes(g.bytes(128)), new(big.Int).SetBytes(g.bytes(128)), new(big.Int).SetBytes(g.bytes(20))}
		t, b = pemText("DSA PRIVATE KEY", mustDER(asn1.Marshal(dsa)))
		add("DV7015", "etc/ssh/ssh_host_dsa_key", t, b)
		ossh := append([]byte("openssh-key-v1\x00\x00\x00\x00\x04none\x00\x00\x00\x04none\x00\x00\x00\x00\x00\x00\x00\x01"), g.bytes(280)...)
		body := wrap(base64.StdEncoding.EncodeToString(ossh), 70)
		add("DV7016", "home/app/.ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n"+body+"\n-----END OPENSSH PRIVATE KEY-----\n", body)
		enc := struct{ Alg, Data []byte }{g.bytes(60), g.bytes(1200)}
		t, b = pemText("ENCRYPTED PRIVATE KEY", mustDER(asn1.Marshal(enc)))
		add("DV7017", "srv/tls/key.enc.pem", t, b)
		pgp := append([]byte{0x95, 0x03, 0xc6, 0x04}, g.bytes(900)...)
		pbody := wrap(base64.StdEncoding.EncodeToString(pgp), 64)
		crc := "=" + g.s(b64, 4)
		add("DV7018", "root/.gnupg/private.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"+pbody+"\n"+crc+"\n-----END PGP PRIVATE KEY BLOCK-----\n", pbody+"\n"+crc)
		priv := wrap(base64.StdEncoding.EncodeToString(g.bytes(600)), 64)
		pub := wrap(base64.StdEncoding.EncodeToString(g.bytes(270)), 64)
		add("DV7019", "home/app/deploy.ppk", "PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: rsa-key-20240131\nPublic-Lines: 6\n"+pub+
			"\nPrivate-Lines: 14\n"+priv+"\nPrivate-MAC: "+g.s(hexd, 64)+"\n", priv)
		ssh2 := append([]byte{0x3f, 0x6f, 0xf9, 0xeb}, g.bytes(600)...)
		sbody := wrap(base64.StdEncoding.EncodeToString(ssh2), 70)
		add("DV7020", "home/app/.ssh2/id_rsa_2048_a", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"2048-bit rsa, app@build\"\n"+sbody+"\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n", "Comment: \"2048-bit rsa, app@build\"\n"+sbody)
		data := make([]byte, 52)
		for i := range data {
			data[i] = byte(g.r.IntN(32))
		}
		age := strings.ToUpper(bech32("age-secret-key-", data))
		add("DV7021", "root/.config/sops/age/keys.txt", "# created: 2024-03-01T10:00:00Z\n# public key: age1"+g.s("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58)+"\n"+age+"\n", age)
		x := wrap(base64.StdEncoding.EncodeToString(append([]byte{0x30, 0x2e, 0x02, 0x01, 0x00}, g.bytes(44)...)), 64)
		add("DV7022", "opt/app/x25519.pem", "-----BEGIN X25519 PRIVATE KEY-----\n"+x+"\n-----END X25519 PRIVATE KEY-----\n", x)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(g.r.Int64N(1 << 40)), Subject: pkix.Name{CommonName: "app.internal"},
			NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1900000000, 0)}
		cert := mustDER(x509.CreateCertificate(crand.Reader, tmpl, tmpl, k.ed.Public(), k.ed))
		t, b = pemText("CERTIFICATE", cert)
		add("DV7023", "etc/app/server.crt", t, b)
	}

	// AWS.
	id := g.awsID("AKIA")
	add("DV7002", "app/.env", "AWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID="+id+"\n", id)
	sec := g.awsSecret()
	add("DV7024", "app/config.env", "AWS_DEFAULT_REGION=us-east-1\nAWS_SECRET_ACCESS_KEY="+sec+"\n", sec)
	id2, sec2 := g.awsID("AKIA"), g.awsSecret()
	add("DV7025", "app/deploy.sh", "#!/bin/sh\nexport KEY_ID="+id2+"\nexport KEY="+sec2+"\naws s3 sync dist s3://bucket\n", sec2)
	out[len(out)-1].Also = []Also{{RuleID: "DV7002", Secret: id2}}
	tokenBody := "IQoJb3JpZ2luX2VjE" + g.s(b64, 300) + "=="
	add("DV7026", "app/session.json", `{"Credentials": {"SessionToken": "`+tokenBody+`", "Expiration": "2024-05-01T12:00:00Z"}}`+"\n", tokenBody)
	mws := "amzn.mws." + g.uuid()
	add("DV7027", "app/mws.properties", "mws.auth.token="+mws+"\n", mws)

	// Google Cloud.
	api := "AIza" + g.s(urlb64, 35)
	add("DV7007", "app/src/config.js", "export const firebaseConfig = { apiKey: \""+api+"\", projectId: \"demo-app\" };\n", api)
	der := mustDER(x509.MarshalPKCS8PrivateKey(k.ed))
	saBody := strings.ReplaceAll(wrap(base64.StdEncoding.EncodeToString(der), 64), "\n", "\\n")
	add("DV7028", "app/service-account.json", "{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-prod-4821\",\n  \"private_key_id\": \""+g.s(hexd, 40)+
		"\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n"+saBody+"\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"deployer@demo-prod-4821.iam.gserviceaccount.com\"\n}\n", saBody)
	oc := "GOCSPX-" + g.s(urlb64, 28)
	add("DV7029", "app/client_secret.json", `{"web":{"client_id":"1234-abc.apps.googleusercontent.com","client_secret":"`+oc+`"}}`+"\n", oc)
	ya := "ya29." + g.s(urlb64, 120)
	add("DV7030", "app/token.txt", "Authorization header value: "+ya+"\n", ya)
	rt := "1//0" + g.s(urlb64, 98)
	add("DV7031", "app/credentials.json", `{"refresh_token": "`+rt+`", "token_uri": "https://oauth2.googleapis.com/token"}`+"\n", rt)

	// Azure.
	ak := g.b64(64)
	add("DV7032", "app/appsettings.json", `{"Storage": "DefaultEndpointsProtocol=https;AccountName=demostore;AccountKey=`+ak+`;EndpointSuffix=core.windows.net"}`+"\n", ak)
	cs := g.s(alnum, 3) + "8Q~" + g.s(alnum+"_~.-", 34)
	add("DV7033", "app/.env", "AZURE_CLIENT_ID="+g.uuid()+"\nAZURE_CLIENT_SECRET="+cs+"\n", cs)
	sig := strings.ReplaceAll(g.b64(32), "=", "%3D")
	add("DV7034", "app/upload.sh", "curl -T backup.tgz \"https://demostore.blob.core.windows.net/backups/b.tgz?sv=2022-11-02&ss=b&srt=o&sp=rwdlac&se=2030-01-01T00:00:00Z&sig="+sig+"\"\n", sig)
	sak := g.b64(32)
	add("DV7035", "app/appsettings.json", `"ServiceBus": "Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=`+sak+`"`+"\n", sak)
	ado := g.s(alnum, 76) + "AZDO" + g.s(alnum, 4)
	add("DV7036", "app/pipeline.env", "AZURE_DEVOPS_EXT_PAT="+ado+"\n", ado)
	pwd := g.s(alnum, 60)
	add("DV7037", "app/Demo.PublishSettings", `<publishData><publishProfile profileName="demo - Web Deploy" publishMethod="MSDeploy" userName="$demo" userPWD="`+pwd+`" /></publishData>`+"\n", pwd)

	// Source hosting.
	for _, p := range []struct{ id, prefix string }{{"DV7003", "ghp_"}, {"DV7038", "gho_"}, {"DV7039", "ghu_"}, {"DV7040", "ghs_"}, {"DV7041", "ghr_"}} {
		t := g.github(p.prefix)
		add(p.id, "app/.github-token", "GITHUB_TOKEN="+t+"\n", t)
	}
	fg := "github_pat_" + g.s(alnum, 22) + "_" + g.s(alnum, 59)
	add("DV7042", "app/ci.env", "GH_TOKEN="+fg+"\n", fg)
	gl := "glpat-" + g.s(urlb64, 20)
	add("DV7004", "app/.gitlab-token", "CI_TOKEN="+gl+"\n", gl)
	gd := "gldt-" + g.s(alnum, 20)
	add("DV7043", "app/deploy.env", "DEPLOY_TOKEN="+gd+"\n", gd)
	gr := "glrt-" + g.s(alnum, 20)
	add("DV7044", "etc/gitlab-runner/config.toml", "[[runners]]\n  url = \"https://gitlab.example.org\"\n  token = \""+gr+"\"\n", gr)
	gp := "glptt-" + g.s(hexd, 40)
	add("DV7045", "app/trigger.sh", "curl -X POST -F token="+gp+" -F ref=main https://gitlab.example.org/api/v4/projects/42/trigger/pipeline\n", gp)
	gj := "glcbt-" + g.s(alnum, 2) + "_" + g.s(alnum, 20)
	add("DV7046", "app/job.env", "CI_JOB_TOKEN="+gj+"\n", gj)
	go_ := "gloas-" + g.s(alnum, 64)
	add("DV7047", "app/oauth.env", "GITLAB_OAUTH_SECRET="+go_+"\n", go_)
	bb := "ATBB" + g.s(alnum, 28) + g.s("0123456789ABCDEF", 8)
	add("DV7048", "app/.env", "BITBUCKET_APP_PASSWORD="+bb+"\n", bb)
	at := "ATATT3" + g.s(alnum, 186)
	add("DV7049", "app/.env", "ATLASSIAN_TOKEN="+at+"\n", at)
	jt := g.s(alnum, 24)
	add("DV7050", "app/jira.properties", "jira.api.token="+jt+"\n", jt)

	// Registries.
	npm := "npm_" + g.s(alnum, 36)
	add("DV7008", "app/.env", "NPM_TOKEN="+npm+"\n", npm)
	py := "pypi-AgEIcHlwaS5vcmc" + g.s(urlb64, 150)
	add("DV7051", "app/publish.env", "TWINE_PASSWORD="+py+"\n", py)
	rg := "rubygems_" + g.s(hexd, 48)
	add("DV7052", "root/.gem/credentials", "---\n:rubygems_api_key: "+rg+"\n", rg)
	nu := "oy2" + g.s(lowerc+digits, 43)
	add("DV7053", "app/push.sh", "dotnet nuget push pkg.nupkg --api-key "+nu+" --source https://api.nuget.org/v3/index.json\n", nu)
	legacy := g.uuid()
	add("DV7054", "root/.npmrc", "registry=https://npm.example.org/\n//npm.example.org/:_authToken="+legacy+"\n", legacy)
	auth := base64.StdEncoding.EncodeToString([]byte("deployer:" + g.s(alnum, 16)))
	add("DV7055", "root/.npmrc", "registry=https://npm.example.org/\n_auth="+auth+"\nalways-auth=true\n", auth)
	pp := g.s(alnum, 14) + "!" + g.s(digits, 2)
	add("DV7056", "root/.pypirc", "[distutils]\nindex-servers = internal\n\n[internal]\nrepository = https://pypi.example.org/\nusername = deployer\npassword = "+pp+"\n", pp)
	dauth := base64.StdEncoding.EncodeToString([]byte("ci-bot:" + g.s(alnum, 20)))
	add("DV7057", "root/.docker/config.json", "{\n\t\"auths\": {\n\t\t\"registry.example.org\": {\n\t\t\t\"auth\": \""+dauth+"\"\n\t\t}\n\t}\n}\n", dauth)
	idt := g.s(urlb64, 64)
	add("DV7058", "root/.docker/config.json", "{\"auths\": {\"demo.azurecr.io\": {\"auth\": \"\", \"identitytoken\": \""+idt+"\"}}}\n", idt)
	dp := "dckr_pat_" + g.s(urlb64, 27)
	add("DV7009", "app/ci.env", "DOCKERHUB_TOKEN="+dp+"\n", dp)
	do := "dckr_oat_" + g.s(urlb64, 32)
	add("DV7059", "app/ci.env", "DOCKER_ORG_TOKEN="+do+"\n", do)
	const b36 = "0123456789abcdefghijklmnopqrstuvwxyz"
	sw := "SWMTKN-1-" + g.s(b36, 50) + "-" + g.s(b36, 25)
	add("DV7118", "app/join-swarm.sh", "#!/bin/sh\ndocker swarm join --token "+sw+" 10.0.0.5:2377\n", sw)
	uk := "SWMKEY-1-" + g.s(alnum+"+/", 43)
	add("DV7119", "root/swarm-unlock.txt", "To unlock a swarm manager after it restarts, run the\n`docker swarm unlock` command and provide the following key:\n\n    "+uk+"\n", uk)
	af := "AKCp" + g.s(alnum, 69)
	add("DV7060", "root/.jfrog/jfrog-cli.conf", "{\"artifactory\": {\"url\": \"https://demo.jfrog.io/artifactory/\", \"apiKey\": \""+af+"\"}}\n", af)
	mv := g.s(alnum, 12) + "#" + g.s(digits, 3)
	add("DV7061", "root/.m2/settings.xml", "<settings>\n  <servers>\n    <server>\n      <id>internal</id>\n      <username>deployer</username>\n      <password>"+mv+"</password>\n    </server>\n  </servers>\n</settings>\n", mv)
	cp := g.s(alnum, 18)
	add("DV7062", "root/.composer/auth.json", "{\n    \"http-basic\": {\n        \"repo.example.org\": {\n            \"username\": \"deployer\",\n            \"password\": \""+cp+"\"\n        }\n    }\n}\n", cp)

	// Chat.
	xb := fmt.Sprintf("xoxb-%s-%s-%s", g.s(digits, 12), g.s(digits, 13), g.s(alnum, 24))
	add("DV7005", "app/.env", "SLACK_BOT_TOKEN="+xb+"\n", xb)
	xp := fmt.Sprintf("xoxp-%s-%s-%s-%s", g.s(digits, 12), g.s(digits, 12), g.s(digits, 13), g.s(hexd, 32))
	add("DV7063", "app/.env", "SLACK_USER_TOKEN="+xp+"\n", xp)
	xa := fmt.Sprintf("xapp-1-%s-%s-%s", g.s(upper+digits, 11), g.s(digits, 13), g.s(hexd, 64))
	add("DV7064", "app/.env", "SLACK_APP_TOKEN="+xa+"\n", xa)
	xe := "xoxe-1-" + g.s(alnum, 146)
	add("DV7065", "app/.env", "SLACK_REFRESH_TOKEN="+xe+"\n", xe)
	xr := "xoxa-2-" + g.s(alnum, 40)
	add("DV7066", "app/.env", "SLACK_WORKSPACE_TOKEN="+xr+"\n", xr)
	wh := "https://hooks.slack.com/services/T" + g.s(upper+digits, 8) + "/B" + g.s(upper+digits, 10) + "/" + g.s(alnum, 24)
	add("DV7012", "app/notify.sh", "curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"deployed\"}' "+wh+"\n", wh)
	discordID := fmt.Sprint(g.r.Int64N(9e17) + 1e17)
	dt := base64.RawURLEncoding.EncodeToString([]byte(discordID)) + "." + g.s(urlb64, 6) + "." + g.s(urlb64, 38)
	add("DV7067", "app/bot.py", "# Discord bot\nclient.run(\""+dt+"\")\n", dt)
	dw := "https://discord.com/api/webhooks/" + fmt.Sprint(g.r.Int64N(9e17)+1e17) + "/" + g.s(urlb64, 68)
	add("DV7068", "app/alerts.yml", "discord_webhook: "+dw+"\n", dw)
	tg := fmt.Sprint(g.r.IntN(9e8)+1e8) + ":AA" + g.s(urlb64, 33)
	add("DV7069", "app/bot.env", "BOT_TOKEN="+tg+"\n", tg)
	teams := "https://demo.webhook.office.com/webhookb2/" + g.uuid() + "@" + g.uuid() + "/IncomingWebhook/" + g.s(hexd, 32) + "/" + g.uuid()
	add("DV7070", "app/alerts.yml", "teams_url: "+teams+"\n", teams)

	// Payments.
	sk := "sk_live_" + g.s(alnum, 99)
	add("DV7006", "app/.env", "STRIPE_SECRET_KEY="+sk+"\n", sk)
	rk := "rk_live_" + g.s(alnum, 99)
	add("DV7071", "app/.env", "STRIPE_RESTRICTED_KEY="+rk+"\n", rk)
	ws := "whsec_" + g.s(alnum, 32)
	add("DV7072", "app/.env", "STRIPE_WEBHOOK_SECRET="+ws+"\n", ws)
	sq := "EAAA" + g.s(urlb64, 60)
	add("DV7073", "app/.env", "SQUARE_ACCESS_TOKEN="+sq+"\n", sq)
	sqs := "sq0csp-" + g.s(urlb64, 43)
	add("DV7074", "app/.env", "SQUARE_APP_SECRET="+sqs+"\n", sqs)
	bt := "access_token$production$" + g.s(lowerc+digits, 16) + "$" + g.s(hexd, 32)
	add("DV7075", "app/config/braintree.yml", "braintree:\n  access_token: "+bt+"\n", bt)
	pps := "E" + g.s(urlb64, 79)
	add("DV7076", "app/.env", "PAYPAL_CLIENT_ID=A"+g.s(urlb64, 79)+"\nPAYPAL_CLIENT_SECRET="+pps+"\n", pps)
	sh := "shpat_" + g.s(hexd, 32)
	add("DV7077", "app/.env", "SHOPIFY_ACCESS_TOKEN="+sh+"\n", sh)
	shs := "shpss_" + g.s(hexd, 32)
	add("DV7078", "app/.env", "SHOPIFY_API_SECRET="+shs+"\n", shs)

	// Services.
	tw := g.s(hexd, 32)
	add("DV7079", "app/.env", "TWILIO_ACCOUNT_SID=AC"+g.s(hexd, 32)+"\nTWILIO_AUTH_TOKEN="+tw+"\n", tw)
	sg := "SG." + g.s(urlb64, 22) + "." + g.s(urlb64, 43)
	add("DV7080", "app/.env", "SENDGRID_API_KEY="+sg+"\n", sg)
	mg := "key-" + g.s(hexd, 32)
	add("DV7081", "app/.env", "MAILGUN_API_KEY="+mg+"\n", mg)
	mc := g.s(hexd, 32) + "-us" + fmt.Sprint(g.r.IntN(20)+1)
	add("DV7082", "app/.env", "MAILCHIMP_API_KEY="+mc+"\n", mc)
	oa := "sk-proj-" + g.s(urlb64, 74) + "T3BlbkFJ" + g.s(urlb64, 74)
	add("DV7083", "app/.env", "OPENAI_API_KEY="+oa+"\n", oa)
	an := "sk-ant-api03-" + g.s(urlb64, 93) + "AA"
	add("DV7084", "app/.env", "ANTHROPIC_API_KEY="+an+"\n", an)
	hf := "hf_" + g.s(upper+lowerc, 34)
	add("DV7085", "app/.env", "HF_TOKEN="+hf+"\n", hf)
	hv := "hvs." + g.s(urlb64, 95)
	add("DV7086", "app/.env", "VAULT_TOKEN="+hv+"\n", hv)
	hb := "hvb." + g.s(urlb64, 150)
	add("DV7087", "app/.env", "VAULT_BATCH_TOKEN="+hb+"\n", hb)
	tf := g.s(alnum, 14) + ".atlasv1." + g.s(alnum, 67)
	add("DV7088", "root/.terraformrc", "credentials \"app.terraform.io\" {\n  token = \""+tf+"\"\n}\n", tf)
	dop := "dop_v1_" + g.s(hexd, 64)
	add("DV7089", "app/.env", "DIGITALOCEAN_TOKEN="+dop+"\n", dop)
	hk := "HRKU-AA" + g.s(urlb64, 58)
	add("DV7090", "app/.env", "HEROKU_API_KEY="+hk+"\n", hk)
	ok := "00" + g.s(urlb64, 40)
	add("DV7091", "app/.env", "OKTA_API_TOKEN="+ok+"\n", ok)
	gf := "glsa_" + g.s(alnum, 32) + "_" + g.s(hexd, 8)
	add("DV7092", "app/.env", "GRAFANA_TOKEN="+gf+"\n", gf)
	db := "dapi" + g.s(hexd, 32)
	add("DV7093", "app/.databrickscfg", "[DEFAULT]\nhost = https://adb-123.azuredatabricks.net\ntoken = "+db+"\n", db)
	se := "sntryu_" + g.s(hexd, 64)
	add("DV7094", "app/.sentryclirc", "[auth]\ntoken="+se+"\n", se)
	dpl := "dp.st.prd." + g.s(alnum, 40)
	add("DV7095", "app/.env", "DOPPLER_TOKEN="+dpl+"\n", dpl)
	ps := "pscale_pw_" + g.s(alnum, 43)
	add("DV7096", "app/.env", "DATABASE_PASSWORD="+ps+"\n", ps)
	pu := "pul-" + g.s(hexd, 40)
	add("DV7097", "app/.env", "PULUMI_ACCESS_TOKEN="+pu+"\n", pu)
	pm := "PMAK-" + g.s(hexd, 24) + "-" + g.s(hexd, 34)
	add("DV7098", "app/.env", "POSTMAN_API_KEY="+pm+"\n", pm)
	nr := "NRAK-" + g.s(upper+digits, 27)
	add("DV7100", "app/newrelic.env", "NEW_RELIC_API_KEY="+nr+"\n", nr)

	// Connection strings.
	up := g.s(alnum, 16)
	add("DV7010", "app/mirror.sh", "git clone https://deploy:"+up+"@git.acme-corp.io/team/app.git\n", up)
	pg := g.s(alnum, 18)
	add("DV7101", "app/.env", "DATABASE_URL=postgres://app:"+pg+"@db.internal:5432/app\n", pg)
	my := g.s(alnum, 14)
	add("DV7102", "app/config.py", "SQLALCHEMY_DATABASE_URI = \"mysql+pymysql://app:"+my+"@mysql:3306/shop\"\n", my)
	mo := g.s(alnum, 20)
	add("DV7103", "app/.env", "MONGO_URI=mongodb+srv://admin:"+mo+"@cluster0.ab1cd.mongodb.net/prod?retryWrites=true\n", mo)
	rd := g.s(alnum, 24)
	add("DV7104", "app/.env", "REDIS_URL=redis://:"+rd+"@cache:6379/0\n", rd)
	am := g.s(alnum, 16)
	add("DV7105", "app/.env", "CELERY_BROKER_URL=amqp://worker:"+am+"@rabbitmq:5672/prod\n", am)
	jd := g.s(alnum, 15)
	add("DV7106", "app/application.properties", "spring.datasource.url=jdbc:postgresql://db:5432/app?user=app&password="+jd+"\n", jd)
	ado2 := g.s(alnum, 17)
	add("DV7107", "app/appsettings.json", `{"ConnectionStrings": {"Default": "Server=sql.internal;Database=Shop;User Id=shop;Password=`+ado2+`;"}}`+"\n", ado2)

	// Credential files.
	ht := "$apr1$" + g.s(alnum, 8) + "$" + g.s(alnum+"./", 22)
	add("DV7108", "etc/nginx/.htpasswd", "admin:"+ht+"\n", ht)
	sh6 := "$6$" + g.s(alnum, 16) + "$" + g.s(alnum+"./", 86)
	add("DV7109", "etc/shadow", "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\napp:"+sh6+":19500:0:99999:7:::\n", sh6)
	keyDER := mustDER(x509.MarshalPKCS8PrivateKey(k.ed))
	kpem := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	kd := base64.StdEncoding.EncodeToString(kpem)
	add("DV7110", "root/.kube/config", "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-certificate-data: "+g.b64(600)+"\n    client-key-data: "+kd+"\n", kd)
	kt := g.s(urlb64, 48)
	add("DV7111", "root/.kube/config", "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: "+kt+"\n", kt)
	nt := g.s(alnum, 20)
	add("DV7112", "root/.netrc", "machine artifacts.example.org\n  login deployer\n  password "+nt+"\n", nt)
	gc := g.s(alnum, 20)
	add("DV7113", "root/.git-credentials", "https://builder:"+gc+"@git.example.org\n", gc)
	ba := base64.StdEncoding.EncodeToString([]byte("api:" + g.s(alnum, 18)))
	add("DV7114", "app/healthcheck.sh", "curl -H \"Authorization: Basic "+ba+"\" https://api.internal/health\n", ba)
	br := g.s(alnum, 40)
	add("DV7115", "app/sync.sh", "curl -H 'Authorization: Bearer "+br+"' https://api.example.org/v1/sync\n", br)
	lk := g.b64(32)
	add("DV7116", "var/www/.env", "APP_NAME=Shop\nAPP_ENV=production\nAPP_KEY=base64:"+lk+"\n", lk)
	rb := g.s(hexd, 128)
	add("DV7117", "app/config/secrets.yml", "production:\n  secret_key_base: "+rb+"\n", rb)
	gen := g.s(alnum, 12) + "-" + g.s(alnum, 8)
	add("DV7099", "app/settings.ini", "[database]\nhost = db\nuser = app\ndb_password = "+gen+"\n", gen)
	jwt := g.jwt(fmt.Sprintf(`{"sub":"%s","role":"admin","iat":1716239022}`, g.uuid()))
	add("DV7011", "app/test-request.http", "GET /api/orders\nX-Session: "+jwt+"\n", jwt)
	// Formats added from gitleaks' and trivy's rule sets.
	ali := "LTAI" + g.s(alnum, 20)
	add("DV7120", "app/.env", "ALIBABA_CLOUD_ACCESS_KEY_ID="+ali+"\n", ali)
	alis := g.s(alnum, 30)
	add("DV7121", "root/.aliyun/credentials.env", "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+alis+"\n", alis)
	regAuth := base64.StdEncoding.EncodeToString([]byte("ci-bot:" + g.s(alnum, 20)))
	dcj := base64.StdEncoding.EncodeToString([]byte(`{"auths":{"registry.internal:5000":{"username":"ci-bot","auth":"` + regAuth + `"}}}`))
	add("DV7122", "deploy/k8s/regcred.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: "+dcj+"\n", dcj)
	pk := "packagist_ort_" + g.s(hexd, 68)
	add("DV7123", "app/.env", "PACKAGIST_TOKEN="+pk+"\n", pk)
	mm := "{" + g.b64(32) + "}"
	add("DV7124", "root/.m2/settings-security.xml", "<settingsSecurity>\n  <master>"+mm+"</master>\n</settingsSecurity>\n", mm)
	azk := g.s(b64, 52) + "JQQJ99" + "CA" + g.s(b64, 16) + "AZCR" + g.s(alnum, 4)
	add("DV7125", "app/acr.env", "ACR_REGISTRY=demo.azurecr.io\nACR_CREDENTIAL="+azk+"\n", azk)
	acs := g.b64(32)
	add("DV7126", "app/appsettings.json", `{"AppConfig": "Endpoint=https://demo-config.azconfig.io;Id=Xk1q-l0-s0:Hf9Tq2wZ;Secret=`+acs+`"}`+"\n", acs)
	ek := "ek_" + g.s(hexd, 32)
	add("DV7127", "app/web/realtime.js", "const session = { client_secret: { value: \""+ek+"\" } };\n", ek)
	add("DV7128", "app/.env", "APP_ENV=prod\nAPP_SECRET=ThisTokenIsNotSoSecretChangeIt\n", "ThisTokenIsNotSoSecretChangeIt")
	stt := "sk_test_" + g.s(alnum, 24)
	add("DV7129", "app/.env.local", "STRIPE_SECRET_KEY="+stt+"\n", stt)
	jb := base64.StdEncoding.EncodeToString([]byte(g.jwt(fmt.Sprintf(`{"sub":"%s","scope":"deploy"}`, g.uuid()))))
	add("DV7130", "deploy/k8s/session.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: session\ndata:\n  session.jwt: "+jb+"\n", jb)
	ng := g.s(alnum, 16) + "!" + g.s(digits, 2)
	add("DV7131", "app/NuGet.Config", "<configuration>\n  <packageSourceCredentials>\n    <internal>\n      <add key=\"Username\" value=\"ci\" />\n      <add key=\"ClearTextPassword\" value=\""+ng+"\" />\n    </internal>\n  </packageSourceCredentials>\n</configuration>\n", ng)
	ud := upper + digits
	op := "A3-" + g.s(ud, 6) + "-" + g.s(ud, 11) + "-" + g.s(ud, 5) + "-" + g.s(ud, 5) + "-" + g.s(ud, 5)
	add("DV7132", "app/.env", "OP_ACCOUNT=demo.1password.com\nOP_SECRET_KEY="+op+"\n", op)
	ad := "p8e-" + g.s(alnum, 32)
	add("DV7133", "app/.env", "ADOBE_CLIENT_SECRET="+ad+"\n", ad)
	air := "pat" + g.s(alnum, 14) + "." + g.s(hexd, 64)
	add("DV7134", "app/.env", "AIRTABLE_TOKEN="+air+"\n", air)
	au := "sc_" + g.s(lowerc+digits, 12) + "." + g.s(alnum, 5) + ".acc_" + g.s(lowerc+digits, 16) + "." + g.s(urlb64, 60)
	add("DV7135", "app/.env", "AUTHRESS_KEY="+au+"\n", au)
	brk := "ABSKQmVkcm9ja0FQSUtleS" + g.s(alnum+"+/", 120)
	add("DV7136", "app/.env", "AWS_BEARER_TOKEN_BEDROCK="+brk+"\n", brk)
	cf := "v1.0-" + g.s(hexd, 24) + "-" + g.s(hexd, 146)
	add("DV7137", "app/.env", "CF_ORIGIN_CA_KEY="+cf+"\n", cf)
	cj := "CLOJARS_" + g.s(lowerc+digits, 60)
	add("DV7138", "root/.lein/credentials.env", "CLOJARS_DEPLOY_TOKEN="+cj+"\n", cj)
	dn := "dnkey-" + g.s(lowerc+digits, 26) + "-" + g.s(lowerc+digits, 52)
	add("DV7139", "app/.env", "DN_API_KEY="+dn+"\n", dn)
	df := "duffel_live_" + g.s(urlb64, 43)
	add("DV7140", "app/.env", "DUFFEL_ACCESS_TOKEN="+df+"\n", df)
	dtX := "dt0c01." + g.s(upper+digits, 24) + "." + g.s(alnum, 64)
	add("DV7141", "app/.env", "DT_API_TOKEN="+dtX+"\n", dtX)
	ez := "EZAK" + g.s(alnum, 54)
	add("DV7142", "app/.env", "EASYPOST_API_KEY="+ez+"\n", ez)
	fb := "EAAC" + g.s(alnum, 150)
	add("DV7143", "app/.env", "FB_PAGE_ACCESS_TOKEN="+fb+"\n", fb)
	fw := "FLWSECK-" + g.s("abcdefgh0123456789", 32) + "-X"
	add("DV7144", "app/.env", "FLW_SECRET_KEY="+fw+"\n", fw)
	fly := "fo1_" + g.s(urlb64, 43)
	add("DV7145", "app/.env", "FLY_API_TOKEN="+fly+"\n", fly)
	fio := "fio-u-" + g.s(urlb64, 64)
	add("DV7146", "app/.env", "FRAMEIO_TOKEN="+fio+"\n", fio)
	gs := g.s(lowerc+digits, 32)
	add("DV7147", "app/scrape.sh", "curl -s -b '_gitlab_session="+gs+"' https://gitlab.example.org/admin\n", gs)
	hn := "pat." + g.s(urlb64, 22) + "." + g.s(alnum, 24) + "." + g.s(alnum, 20)
	add("DV7148", "app/.env", "HARNESS_API_KEY="+hn+"\n", hn)
	ico := "ico-" + g.s(alnum, 32)
	add("DV7149", "app/.env", "INFRACOST_API_KEY="+ico+"\n", ico)
	i42 := "s-s4t2ud-" + g.s(hexd, 64)
	add("DV7150", "app/.env", "FT_CLIENT_SECRET="+i42+"\n", i42)
	lin := "lin_api_" + g.s(alnum, 40)
	add("DV7151", "app/.env", "LINEAR_API_KEY="+lin+"\n", lin)
	ntn := "ntn_" + g.s(digits, 11) + g.s(alnum, 35)
	add("DV7152", "app/.env", "NOTION_TOKEN="+ntn+"\n", ntn)
	oct := "API-" + g.s(upper+digits, 26)
	add("DV7153", "app/deploy.ps1", "$headers = @{ \"X-Octopus-ApiKey\" = \""+oct+"\" }\n", oct)
	osh := "sha256~" + g.s(urlb64, 43)
	add("DV7154", "app/login.sh", "oc login --token="+osh+" --server=https://api.cluster.internal:6443\n", osh)
	ppl := "pplx-" + g.s(alnum, 48)
	add("DV7155", "app/.env", "PERPLEXITY_API_KEY="+ppl+"\n", ppl)
	pnu := "pnu_" + g.s(alnum, 36)
	add("DV7156", "app/.env", "PREFECT_API_KEY="+pnu+"\n", pnu)
	rdX := "rdme_" + g.s(lowerc+digits, 70)
	add("DV7157", "app/.env", "README_API_KEY="+rdX+"\n", rdX)
	sc := "tk-us-" + g.s(urlb64, 48)
	add("DV7158", "app/.env", "SCALINGO_API_TOKEN="+sc+"\n", sc)
	xk := "xkeysib-" + g.s(hexd, 64) + "-" + g.s(alnum, 16)
	add("DV7159", "app/.env", "BREVO_API_KEY="+xk+"\n", xk)
	sm := "sm_pat_" + g.s(alnum, 16)
	add("DV7160", "app/.env", "SETTLEMINT_ACCESS_TOKEN="+sm+"\n", sm)
	sp := "shippo_live_" + g.s(hexd, 40)
	add("DV7161", "app/.env", "SHIPPO_API_TOKEN="+sp+"\n", sp)
	sqX := "squ_" + g.s(hexd, 40)
	add("DV7162", "app/sonar-project.properties", "sonar.projectKey=demo\nsonar.token="+sqX+"\n", sqX)
	sgX := "sgp_" + g.s(hexd, 16) + "_" + g.s(hexd, 40)
	add("DV7163", "app/.env", "SRC_ACCESS_TOKEN="+sgX+"\n", sgX)
	tf2 := "tfp_" + g.s(alnum+"_-", 44)
	add("DV7164", "app/.env", "TYPEFORM_TOKEN="+tf2+"\n", tf2)
	yc := "t1." + g.s(urlb64, 30) + "." + g.s(urlb64, 86)
	add("DV7165", "app/.env", "YC_TOKEN="+yc+"\n", yc)
	return out
}
