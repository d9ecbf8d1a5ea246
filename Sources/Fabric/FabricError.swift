import Core

/// Refusals and failures of the fabric.
public enum FabricError: DomainError, Equatable {
    case switchNotFound(String)
    case duplicateSwitch(String)
    case invalidField(field: String, reason: String)
    /// Values each valid alone that do not fit together (a port listed twice).
    case inconsistent(field: String, reason: String)
    case portTaken(switchName: String, port: String, node: String)
    /// A cable names a node the platform does not have (the switch itself exists, so not a 404).
    case unknownNode(String)
    /// The switch could not be reached or refused the change.
    case driverFailed(switchName: String, reason: String)
    /// A node's port did not leave its tenant's segments in time (a release waits for this before the wipe).
    case notIsolated(node: String, reason: String)

    public var code: String {
        switch self {
        case .switchNotFound: "not_found"
        case .unknownNode: "unknown_node"
        case .duplicateSwitch: "already_exists"
        case .invalidField: "invalid_field"
        case .inconsistent: "unprocessable_field"
        case .portTaken: "port_in_use"
        case .driverFailed: "fabric_driver_failed"
        case .notIsolated: "fabric_not_isolated"
        }
    }

    public var kind: ErrorKind {
        switch self {
        case .switchNotFound: .notFound
        case .unknownNode: .unprocessable
        case .duplicateSwitch, .portTaken: .conflict
        case .invalidField: .invalidRequest
        case .inconsistent: .unprocessable
        case .driverFailed, .notIsolated: .unavailable
        }
    }

    public var message: String {
        switch self {
        case .switchNotFound(let name): "switch \(name) not found"
        case .duplicateSwitch(let name): "switch \(name) already exists"
        case .invalidField(let field, let reason), .inconsistent(let field, let reason): "\(field): \(reason)"
        case .portTaken(let switchName, let port, let node): "port \(port) of switch \(switchName) is already cabled to node \(node)"
        case .unknownNode(let name): "cabling names node \(name), which does not exist"
        case .driverFailed(let switchName, let reason): "switch \(switchName): \(reason)"
        case .notIsolated(let node, let reason): "node \(node)'s port is still in its tenant's segments: \(reason)"
        }
    }

    public var details: [String: JSONValue] {
        switch self {
        case .invalidField(let field, _), .inconsistent(let field, _): ["field": .string(field)]
        case .driverFailed(let switchName, _): ["switch": .string(switchName)]
        default: [:]
        }
    }
}
