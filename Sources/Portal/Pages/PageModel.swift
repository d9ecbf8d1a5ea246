/// What a portal page shows, as data: the one layout template draws every page from it, so pages are plain and alike
/// (a heading, facts, tables, forms, charts) and their code reads as what they show.
struct PageModel {
    var title: String
    var blocks: [Block] = []
    /// A confirmation after an action.
    var notice: String?
    /// A refusal, with its machine-readable reason and the request id, as the API gives it.
    var error: String?
    /// A page that refreshes itself: its live part's URL (htmx polls it; without script a meta refresh reloads the page).
    var liveURL: String?

    init(_ title: String, _ blocks: [Block] = []) {
        self.title = title
        self.blocks = blocks
    }

    enum Block {
        case heading(String)
        case text(String)
        /// A value shown once (a new API key, an invitation link), with what to do with it.
        case secret(label: String, value: String)
        case facts([(String, String)])
        case table(Table)
        case form(Form)
        /// An SVG from `Charts`, trusted: drawn by our code from numbers, with every text escaped.
        case chart(svg: String)
        /// Charts side by side where the page is wide enough.
        case charts([String])
        case links([(label: String, href: String)])
        /// The live part of a page, rendered again on its own for polling.
        case live([Block])
    }

    struct Table {
        var caption: String?
        var columns: [String]
        var rows: [[Cell]]
        var empty = "Nothing yet."
        /// The next page of a long list.
        var next: String?

        init(_ caption: String? = nil, columns: [String], rows: [[Cell]], empty: String = "Nothing yet.", next: String? = nil) {
            self.caption = caption
            self.columns = columns
            self.rows = rows
            self.empty = empty
            self.next = next
        }
    }

    struct Cell: ExpressibleByStringLiteral {
        var text: String
        var href: String?
        /// A state shown as a coloured badge (ready, failed, suspended…).
        var badge: Bool = false
        /// A button that posts a one-field form (suspend, resume, revoke).
        var action: String?

        init(_ text: String, href: String? = nil, badge: Bool = false, action: String? = nil) {
            self.text = text
            self.href = href
            self.badge = badge
            self.action = action
        }

        init(stringLiteral value: String) { self.init(value) }
    }

    struct Form {
        var action: String
        var submit: String
        var fields: [Field]
        var method = "post"
        var legend: String?

        init(_ legend: String? = nil, action: String, submit: String, fields: [Field], method: String = "post") {
            self.legend = legend
            self.action = action
            self.submit = submit
            self.fields = fields
            self.method = method
        }
    }

    struct Field {
        var name: String
        var label: String
        var type = "text"
        var value = ""
        var options: [(value: String, label: String)] = []
        var required = true
        var pattern: String?
        var hint: String?

        static func text(_ name: String, _ label: String, value: String = "", required: Bool = true, pattern: String? = nil, hint: String? = nil) -> Field {
            Field(name: name, label: label, value: value, required: required, pattern: pattern, hint: hint)
        }

        static func number(_ name: String, _ label: String, value: String = "", required: Bool = false) -> Field {
            Field(name: name, label: label, type: "number", value: value, required: required)
        }

        static func password(_ name: String, _ label: String) -> Field { Field(name: name, label: label, type: "password") }

        static func select(_ name: String, _ label: String, _ options: [(value: String, label: String)], selected: String = "") -> Field {
            Field(name: name, label: label, type: "select", value: selected, options: options)
        }

        static func hidden(_ name: String, _ value: String) -> Field { Field(name: name, label: "", type: "hidden", value: value) }
    }
}

/// The page model as the template reads it: dictionaries and arrays (swift-mustache reads `[String: Any]` by key).
extension PageModel {
    func context(user: String?, realm: String?, csrf: String?, nav: [(label: String, href: String)], path: String) -> [String: Any] {
        var context: [String: Any] = [
            "title": title, "blocks": blocks.map { Self.context($0, csrf: csrf) },
            "nav": nav.map { ["navLabel": $0.label, "navHref": $0.href, "navCurrent": path == $0.href || (path.hasPrefix($0.href + "/") && $0.href.count > 8)] },
        ]
        if let user { context["user"] = user }
        if let realm { context["realm"] = realm }
        if let csrf { context["csrf"] = csrf }
        if let notice { context["notice"] = notice }
        if let error { context["error"] = error }
        if let liveURL { context["liveURL"] = liveURL }
        return context
    }

    static func context(_ block: Block, csrf: String?) -> [String: Any] {
        switch block {
        case .heading(let text): return ["heading": text]
        case .text(let text): return ["paragraph": text]
        case .secret(let label, let value): return ["secret": ["secretLabel": label, "secretValue": value]]
        case .facts(let facts): return ["facts": ["factList": facts.map { ["factName": $0.0, "factValue": $0.1] }]]
        case .chart(let svg): return ["chart": svg]
        case .charts(let svgs): return ["charts": ["chartList": svgs.map { ["svg": $0] }]]
        case .links(let links): return ["links": ["linkList": links.map { ["linkLabel": $0.label, "linkHref": $0.href] }]]
        case .live(let blocks): return ["live": ["liveBlocks": blocks.map { context($0, csrf: csrf) }]]
        case .table(let table):
            var value: [String: Any] = [
                "columns": table.columns.map { ["column": $0] }, "emptyText": table.empty,
                "rows": table.rows.map { row in ["cells": row.map { cell -> [String: Any] in
                    var entry: [String: Any] = ["cellText": cell.text]
                    if let href = cell.href { entry["cellHref"] = href }
                    if cell.badge { entry["cellBadge"] = cell.text.lowercased().filter { $0.isLetter || $0 == "-" } }
                    if let action = cell.action { entry["cellAction"] = action; entry["cellCSRF"] = csrf ?? "" }
                    return entry
                }] },
            ]
            if let caption = table.caption { value["caption"] = caption }
            if let next = table.next { value["nextPage"] = next }
            return ["table": value]
        case .form(let form):
            var value: [String: Any] = ["formAction": form.action, "formSubmit": form.submit, "formPost": form.method == "post",
                                        "formMethod": form.method, "formCSRF": csrf ?? ""]
            if let legend = form.legend { value["legend"] = legend }
            value["fields"] = form.fields.map { field -> [String: Any] in
                var entry: [String: Any] = ["fieldName": field.name, "fieldLabel": field.label, "fieldValue": field.value,
                                            "fieldType": field.type, "fieldRequired": field.required]
                switch field.type {
                case "hidden": entry["isHidden"] = true
                case "select":
                    entry["isSelect"] = true
                    entry["options"] = field.options.map { ["optionValue": $0.value, "optionLabel": $0.label, "optionSelected": $0.value == field.value] }
                default: entry["isInput"] = true
                }
                if let pattern = field.pattern { entry["fieldPattern"] = pattern }
                if let hint = field.hint { entry["fieldHint"] = hint }
                return entry
            }
            return ["form": value]
        }
    }
}
