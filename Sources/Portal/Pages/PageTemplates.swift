/// The portal's Mustache templates. They live in the binary (one file to install), escape every value but the charts'
/// SVG, and use no inline script or style: the Content-Security-Policy allows only the portal's own CSS and htmx.
enum PageTemplates {
    static let all: [String: String] = ["layout": layout, "block": block, "live": live]

    static let layout = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Metalplane</title>
        <link rel="stylesheet" href="/portal/assets/portal.css">
        {{#liveURL}}<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false}'>
        <script src="/portal/assets/htmx.min.js" defer></script>
        <noscript><meta http-equiv="refresh" content="15"></noscript>{{/liveURL}}
        </head><body>
        <header><a class="brand" href="/portal">Metalplane</a>
        <nav>{{#nav}}<a href="{{navHref}}"{{#navCurrent}} aria-current="page"{{/navCurrent}}>{{navLabel}}</a>{{/nav}}</nav>
        {{#user}}<form class="signout" method="post" action="/portal/signout"><input type="hidden" name="csrf_token" value="{{csrf}}">
        <span>{{user}} · {{realm}}</span> <button type="submit">Sign out</button></form>{{/user}}
        </header>
        <main>
        <h1>{{title}}</h1>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{#blocks}}{{> block}}{{#live}}<div id="live" hx-get="{{liveURL}}" hx-trigger="every 5s" hx-swap="innerHTML">{{#liveBlocks}}{{> block}}{{/liveBlocks}}</div>{{/live}}{{/blocks}}
        </main>
        </body></html>
        """

    static let live = "{{#blocks}}{{#live}}{{#liveBlocks}}{{> block}}{{/liveBlocks}}{{/live}}{{/blocks}}"

    static let block = """
        {{#heading}}<h2>{{heading}}</h2>{{/heading}}
        {{#paragraph}}<p>{{paragraph}}</p>{{/paragraph}}
        {{#secret}}<div class="secret"><p>{{secretLabel}}</p><code>{{secretValue}}</code></div>{{/secret}}
        {{#facts}}<dl class="facts">{{#factList}}<dt>{{factName}}</dt><dd>{{factValue}}</dd>{{/factList}}</dl>{{/facts}}
        {{#chart}}<figure>{{{chart}}}</figure>{{/chart}}
        {{#charts}}<div class="charts">{{#chartList}}<figure>{{{svg}}}</figure>{{/chartList}}</div>{{/charts}}
        {{#links}}<p class="links">{{#linkList}}<a href="{{linkHref}}">{{linkLabel}}</a>{{/linkList}}</p>{{/links}}
        {{#table}}<table>{{#caption}}<caption>{{caption}}</caption>{{/caption}}
        <thead><tr>{{#columns}}<th scope="col">{{column}}</th>{{/columns}}</tr></thead>
        <tbody>{{#rows}}<tr>{{#cells}}<td>{{#cellAction}}<form class="inline" method="post" action="{{cellAction}}"><input type="hidden" name="csrf_token" value="{{cellCSRF}}"><button type="submit">{{cellText}}</button></form>{{/cellAction}}{{^cellAction}}{{#cellHref}}<a href="{{cellHref}}">{{cellText}}</a>{{/cellHref}}{{^cellHref}}{{#cellBadge}}<span class="badge b-{{cellBadge}}">{{cellText}}</span>{{/cellBadge}}{{^cellBadge}}{{cellText}}{{/cellBadge}}{{/cellHref}}{{/cellAction}}</td>{{/cells}}</tr>{{/rows}}
        {{^rows}}<tr><td class="empty" colspan="99">{{emptyText}}</td></tr>{{/rows}}</tbody></table>
        {{#nextPage}}<p><a href="{{nextPage}}">Next page</a></p>{{/nextPage}}{{/table}}
        {{#form}}<form method="{{formMethod}}" action="{{formAction}}">{{#legend}}<fieldset><legend>{{legend}}</legend>{{/legend}}
        {{#formPost}}<input type="hidden" name="csrf_token" value="{{formCSRF}}">{{/formPost}}
        {{#fields}}{{#isHidden}}<input type="hidden" name="{{fieldName}}" value="{{fieldValue}}">{{/isHidden}}{{#isInput}}<label>{{fieldLabel}} <input name="{{fieldName}}" type="{{fieldType}}" value="{{fieldValue}}"{{#fieldRequired}} required{{/fieldRequired}}{{#fieldPattern}} pattern="{{fieldPattern}}"{{/fieldPattern}}>{{#fieldHint}}<small>{{fieldHint}}</small>{{/fieldHint}}</label>{{/isInput}}{{#isSelect}}<label>{{fieldLabel}} <select name="{{fieldName}}">{{#options}}<option value="{{optionValue}}"{{#optionSelected}} selected{{/optionSelected}}>{{optionLabel}}</option>{{/options}}</select></label>{{/isSelect}}{{/fields}}
        <button type="submit">{{formSubmit}}</button>{{#legend}}</fieldset>{{/legend}}</form>{{/form}}
        """

    /// The portal's stylesheet: plain, readable, dense enough for fleets.
    static let stylesheet = """
        :root{--fg:#1d232a;--muted:#5b6570;--line:#dde2e7;--accent:#0b5cad;--bg:#fff;--panel:#f6f8fa}
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:var(--bg)}
        header{display:flex;flex-wrap:wrap;align-items:center;gap:1rem;padding:.6rem 1.2rem;background:#14202c;color:#fff}
        header a{color:#cfe3ff;text-decoration:none}header .brand{font-weight:700;color:#fff;margin-right:.5rem}
        nav{display:flex;flex-wrap:wrap;gap:.9rem;flex:1}nav a[aria-current]{color:#fff;border-bottom:2px solid #7fb6ff}
        .signout{display:flex;gap:.5rem;align-items:center;font-size:.9rem}.signout button{font-size:.85rem}
        main{max-width:72rem;margin:0 auto;padding:1rem 1.2rem 3rem}h1{font-size:1.5rem;margin:.6rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
        table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.92rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:var(--panel);font-weight:600}caption{text-align:left;font-weight:600;padding:.3rem 0}td.empty{color:var(--muted)}
        a{color:var(--accent)}form{margin:.5rem 0 1rem}fieldset{border:1px solid var(--line);padding:.6rem .9rem;display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:flex-end}
        legend{font-weight:600}label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}label input,label select{font-size:.95rem;padding:.3rem;min-width:11rem;color:var(--fg)}
        label small{font-size:.75rem}button{font-size:.9rem;padding:.35rem .8rem;cursor:pointer}form.inline{margin:0}form.inline button{font-size:.8rem;padding:.15rem .5rem}
        .notice{background:#e7f5ea;border-left:4px solid #2e8540;padding:.5rem .8rem}.error{background:#fdecea;border-left:4px solid #b3261e;padding:.5rem .8rem;white-space:pre-wrap}
        .secret{background:#fff8e1;border:1px solid #f0c36d;padding:.5rem .8rem;margin:.5rem 0}.secret code{font-size:1rem;word-break:break-all}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0 1rem}dt{color:var(--muted)}dd{margin:0}
        .badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-size:.8rem;background:#e8ecf0}
        .b-ready,.b-active,.b-serving,.b-running,.b-allocated,.b-success,.b-resolved,.b-ok{background:#dff3e4;color:#1e6b34}
        .b-failed,.b-failure,.b-lost,.b-critical,.b-error,.b-hot{background:#fbe0de;color:#8c1d18}
        .b-suspended,.b-onboarding,.b-starting,.b-staging,.b-warning,.b-detected,.b-maintenance,.b-warm{background:#fff1d6;color:#7a4d00}
        figure{margin:.5rem 0 1rem;overflow-x:auto}.chart{max-width:100%;height:auto;border:1px solid var(--line);background:#fff}
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(28rem,1fr));gap:1rem}.links a{margin-right:1rem}
        """
}
