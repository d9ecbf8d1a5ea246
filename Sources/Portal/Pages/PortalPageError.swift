import Core

/// Refusals of the portal's pages themselves (the API's own refusals pass through as they are).
enum PortalPageError: DomainError, Equatable {
    /// The callback's state is not the one this browser started with, or the sign-in took too long.
    case signInExpired
    /// A form posted without the session's CSRF token: not from a page the portal showed this browser.
    case csrfTokenMissing
    /// A form field the page needs is empty or malformed.
    case invalidField(name: String, reason: String)

    var code: String {
        switch self {
        case .signInExpired: "sign_in_expired"
        case .csrfTokenMissing: "csrf_token_missing"
        case .invalidField: "invalid_field"
        }
    }

    var kind: ErrorKind {
        switch self {
        case .signInExpired: .invalidRequest
        case .csrfTokenMissing: .forbidden
        case .invalidField: .unprocessable
        }
    }

    var message: String {
        switch self {
        case .signInExpired: "This sign-in did not start in this browser or took too long; start it again."
        case .csrfTokenMissing: "This form did not come from a page the portal showed you (its CSRF token is missing or wrong); reload the page and try again."
        case .invalidField(let name, let reason): "\(name) \(reason)"
        }
    }
}
