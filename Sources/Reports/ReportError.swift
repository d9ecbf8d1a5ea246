import Core

/// Refusals of the reports and the cost model.
public enum ReportError: DomainError, Equatable {
    case invalidSetting(field: String, reason: String)
    case invalidPeriod(String)
    case reportNotFound(String)
    /// The PDF renderer (typst) failed or is missing.
    case renderFailed(String)

    public var code: String {
        switch self {
        case .invalidSetting: "invalid_setting"
        case .invalidPeriod: "invalid_period"
        case .reportNotFound: "not_found"
        case .renderFailed: "render_failed"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .invalidSetting, .invalidPeriod: .unprocessable
        case .reportNotFound: .notFound
        case .renderFailed: .unavailable
        }
    }

    public var message: String {
        switch self {
        case .invalidSetting(let field, let reason): "cost setting \(field) \(reason)"
        case .invalidPeriod(let reason): "report period: \(reason)"
        case .reportNotFound(let id): "report \(id) not found"
        case .renderFailed(let reason): "the PDF could not be rendered: \(reason)"
        }
    }

    public var details: [String: JSONValue] {
        if case .invalidSetting(let field, _) = self { return ["field": .string(field)] }
        return [:]
    }
}
