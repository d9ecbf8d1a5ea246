import Foundation

/// One BMC's Redfish system resource and how to reach it.
public struct RedfishEndpoint: Sendable, Equatable {
    /// The system's URL, e.g. `https://10.0.0.5/redfish/v1/Systems/1`.
    public var systemURL: String
    public var username: String
    public var password: String
    /// Whether to verify the BMC's TLS certificate (many BMCs ship self-signed ones).
    public var verifyTLS: Bool

    /// What a system URL looks like: http(s), a host name or IPv4 address (an IPv6 BMC is reached by
    /// its name), an optional port, and the system's path. The API document shows the same pattern.
    public static let systemURLPattern = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/([A-Za-z0-9._~-]+/)*redfish/v1/Systems/[A-Za-z0-9._~-]+/?$"

    public init(systemURL: String, username: String, password: String, verifyTLS: Bool = true) throws(RedfishError) {
        let trimmed = systemURL.hasSuffix("/") ? String(systemURL.dropLast()) : systemURL
        guard systemURL.range(of: Self.systemURLPattern, options: .regularExpression) != nil else {
            throw .invalidAddress(systemURL)
        }
        self.systemURL = trimmed
        self.username = username
        self.password = password
        self.verifyTLS = verifyTLS
    }

    /// The service root (`scheme://host:port`), to which `@odata.id` paths are relative.
    public var origin: String {
        guard let schemeEnd = systemURL.range(of: "://"),
              let slash = systemURL[schemeEnd.upperBound...].firstIndex(of: "/") else { return systemURL }
        return String(systemURL[..<slash])
    }
}

/// What power action to take.
public enum ResetType: String, Sendable, Codable, CaseIterable {
    case on = "On"
    case forceOff = "ForceOff"
    case gracefulShutdown = "GracefulShutdown"
    case gracefulRestart = "GracefulRestart"
    case forceRestart = "ForceRestart"
}

/// Where to boot from next.
public enum BootTarget: String, Sendable, Codable, CaseIterable {
    case pxe = "Pxe"
    case cd = "Cd"
    case disk = "Hdd"
}
