import Foundation

/// The CLI's cached sign-in: server, realm, tokens. Kept in a 0600 file
/// (`$METALPLANE_CREDENTIALS`, else `~/.config/metalplane/credentials.json`).
public struct StoredCredentials: Codable {
    public var server: String
    public var realm: String
    public var clientId: String
    public var username: String
    public var accessToken: String
    public var refreshToken: String?
    /// Seconds since 1970 when the access token expires.
    public var accessExpiresAt: Double

    public init(server: String, realm: String, clientId: String, username: String, accessToken: String, refreshToken: String?, accessExpiresAt: Double) {
        self.server = server
        self.realm = realm
        self.clientId = clientId
        self.username = username
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.accessExpiresAt = accessExpiresAt
    }
}

public enum CredentialStore {
    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["METALPLANE_CREDENTIALS"] { return explicit }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/metalplane/credentials.json").path
    }

    public static func load() throws -> StoredCredentials {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError.notLoggedIn(path)
        }
        return try JSONDecoder().decode(StoredCredentials.self, from: data)
    }

    /// Writes the file with mode 0600 from the start, so the tokens are never world-readable.
    public static func save(_ credentials: StoredCredentials) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let data = try JSONEncoder().encode(credentials)
        let temporary = url.path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CLIError.io("cannot write \(temporary)")
        }
        // rename(2) swaps the file in atomically, so a reader never sees half a file.
        guard rename(temporary, url.path) == 0 else { throw CLIError.io("cannot replace \(url.path): errno \(errno)") }
    }
}

/// What the CLI reports to its user.
public enum CLIError: Error, CustomStringConvertible {
    case notLoggedIn(String)
    case http(status: Int, body: String)
    case io(String)

    public var description: String {
        switch self {
        case .notLoggedIn(let path): "not logged in (no \(path)); run: metalplane login --server URL"
        case .http(let status, let body): "HTTP \(status): \(body)"
        case .io(let what): what
        }
    }
}
