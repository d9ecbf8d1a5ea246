import Foundation

/// One BMC's Redfish system resource and how to reach it.
public struct RedfishEndpoint: Sendable, Equatable {
    /// The system's URL, e.g. `https://10.0.0.5/redfish/v1/Systems/1`.
    public var systemURL: String
    public var username: String
    public var password: String
    /// Whether to verify the BMC's TLS certificate (many BMCs ship self-signed ones).
    public var verifyTLS: Bool

    public init(systemURL: String, username: String, password: String, verifyTLS: Bool = true) throws(RedfishError) {
        let trimmed = systemURL.hasSuffix("/") ? String(systemURL.dropLast()) : systemURL
        guard trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://"), trimmed.contains("/redfish/v1/Systems/") else {
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
