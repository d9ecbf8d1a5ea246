import Core

/// Failures talking to a BMC.
public enum RedfishError: DomainError, Equatable {
    case unreachable(url: String, reason: String)
    case rejected(url: String, status: Int, message: String)
    case unauthorized(url: String)
    case invalidResponse(url: String, reason: String)
    case invalidAddress(String)

    public var code: String {
        switch self {
        case .unreachable: "bmc_unreachable"
        case .rejected: "bmc_error"
        case .unauthorized: "bmc_unauthorized"
        case .invalidResponse: "bmc_invalid_response"
        case .invalidAddress: "invalid_field"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .invalidAddress: .invalidRequest
        case .unreachable, .rejected, .unauthorized, .invalidResponse: .unavailable
        }
    }

    public var message: String {
        switch self {
        case .unreachable(let url, let reason): "BMC at \(url) is unreachable: \(reason)"
        case .rejected(let url, let status, let message): "BMC at \(url) answered \(status): \(message)"
        case .unauthorized(let url): "BMC at \(url) refused the credentials"
        case .invalidResponse(let url, let reason): "BMC at \(url) sent an unexpected answer: \(reason)"
        case .invalidAddress(let address): "bmc.address must be an http(s) URL of a Redfish system (…/redfish/v1/Systems/ID), got \(address)"
        }
    }
}
