package logtodev

import "html/template"

// page is what the templates read. Every string is escaped by html/template.
type page struct {
	View            string // sign-in, register, code, message, home
	Title, Heading  string
	Error, Message  string
	CSRF            string
	Phone, Password bool // methods offered
	Tab             string
	IdentifierLabel string
	PhoneValue      string
	IdentifierValue string
	Mode            string // sign-in or register
	CodeLength      int

	SendAction, VerifyAction, PasswordAction string
	SignInURL, RegisterURL                   string
	PhoneURL, PasswordURL                    string
	BackURL, BackText                        string

	Issuer, DiscoveryURL string
}

var pages = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}} · Logto dev</title>
<style>
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f4f4f8;color:#1a1a2e;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:400px;margin:24px;padding:32px;background:#fff;border-radius:16px;box-shadow:0 4px 24px rgba(26,26,46,.08)}
.brand{margin:0 0 8px;color:#5d34f2;font-weight:600;font-size:14px;letter-spacing:.02em}
h1{margin:0 0 20px;font-size:24px}
label{display:block;margin:14px 0 6px;font-size:14px;font-weight:500}
input[type=tel],input[type=text],input[type=password]{width:100%;padding:10px 12px;font:inherit;border:1px solid #c9c9d6;border-radius:8px}
input:focus{outline:2px solid #5d34f2;outline-offset:1px;border-color:#5d34f2}
input.code{letter-spacing:.5em;font-size:20px;text-align:center}
button{width:100%;margin-top:20px;padding:11px;font:inherit;font-weight:600;color:#fff;background:#5d34f2;border:0;border-radius:8px;cursor:pointer}
button:hover{background:#4a22d9}
button.link{width:auto;margin:0;padding:0;color:#5d34f2;background:none;font-weight:500;text-decoration:underline}
form.inline{display:inline}
.tabs{display:flex;gap:4px;margin-bottom:8px;padding:4px;background:#f0eefc;border-radius:10px}
.tabs a{flex:1;padding:6px;text-align:center;border-radius:8px;color:#1a1a2e;text-decoration:none;font-size:14px}
.tabs a[aria-current]{background:#fff;font-weight:600;box-shadow:0 1px 3px rgba(0,0,0,.1)}
.error{margin:0 0 12px;padding:10px 12px;color:#a3141f;background:#fdecee;border-radius:8px}
.alt{margin:20px 0 0;font-size:14px;color:#55556b}
a{color:#5d34f2}
code{word-break:break-all}
</style>
</head>
<body>
<main>
<p class="brand">Logto dev provider</p>
<h1>{{.Heading}}</h1>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
{{- if eq .View "sign-in"}}
{{if and .Phone .Password}}<nav class="tabs">
<a href="{{.PhoneURL}}"{{if eq .Tab "phone"}} aria-current="page"{{end}}>Phone</a>
<a href="{{.PasswordURL}}"{{if eq .Tab "password"}} aria-current="page"{{end}}>Password</a>
</nav>{{end}}
{{if eq .Tab "phone"}}{{template "phone-form" .}}{{else}}
<form method="post" action="{{.PasswordAction}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="identifier">{{.IdentifierLabel}}</label>
<input type="text" id="identifier" name="identifier" value="{{.IdentifierValue}}" autocomplete="username" autocapitalize="none" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>{{end}}
{{with .RegisterURL}}<p class="alt">No account? <a href="{{.}}">Create one with your phone number</a></p>{{end}}
{{- else if eq .View "register"}}
{{template "phone-form" .}}
<p class="alt">Already have an account? <a href="{{.SignInURL}}">Sign in</a>. A number that is already registered signs in.</p>
{{- else if eq .View "code"}}
<p>Enter the {{.CodeLength}}-digit code sent to <strong>{{.PhoneValue}}</strong>.</p>
<form method="post" action="{{.VerifyAction}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="mode" value="{{.Mode}}">
<input type="hidden" name="phone" value="{{.PhoneValue}}">
<label for="code">Verification code</label>
<input type="text" class="code" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="{{.CodeLength}}" required autofocus>
<button type="submit">Continue</button>
</form>
<div class="alt">Didn't get it?
<form class="inline" method="post" action="{{.SendAction}}"><input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="mode" value="{{.Mode}}"><input type="hidden" name="phone" value="{{.PhoneValue}}"><button type="submit" class="link">Resend code</button></form>
· <a href="{{.BackURL}}">Use a different number</a></div>
{{- else if eq .View "home"}}
<p>An OpenID Connect provider that behaves like Logto, for development. Sign-ins start at your app.</p>
<p>Issuer: <code>{{.Issuer}}</code></p>
<p><a href="{{.DiscoveryURL}}">Discovery document</a></p>
{{- else}}
<p>{{.Message}}</p>
{{with .BackURL}}<p><a href="{{.}}">{{$.BackText}}</a></p>{{end}}
{{- end}}
</main>
</body>
</html>
{{define "phone-form"}}<form method="post" action="{{.SendAction}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="mode" value="{{.Mode}}">
<label for="phone">Phone number</label>
<input type="tel" id="phone" name="phone" value="{{.PhoneValue}}" autocomplete="tel" inputmode="tel" placeholder="+1 555 123 4567" required autofocus>
<button type="submit">Send code</button>
</form>{{end}}
`))
