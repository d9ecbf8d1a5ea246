import Foundation

/// The CLI's cached sign-in: server, realm, tokens. Kept in a 0600 file
/// (`$METALPLANE_CREDENTIALS`, else `~/.config/metalplane/credentials.json`).
struct StoredCredentials: Codable {
    var server: String
    var realm: String
    var clientId: String
    var username: String
    var accessToken: String
    var refreshToken: String?
    /// Seconds since 1970 when the access token expires.
    var accessExpiresAt: Double
}

enum CredentialStore {
    static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["METALPLANE_CREDENTIALS"] { return explicit }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/metalplane/credentials.json").path
    }

    static func load() throws -> StoredCredentials {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError.notLoggedIn(path)
        }
        return try JSONDecoder().decode(StoredCredentials.self, from: data)
    }

    /// Writes the file with mode 0600 from the start, so the tokens are never world-readable.
    static func save(_ credentials: StoredCredentials) throws {
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
enum CLIError: Error, CustomStringConvertible {
    case notLoggedIn(String)
    case http(status: Int, body: String)
    case io(String)

    var description: String {
        switch self {
        case .notLoggedIn(let path): "not logged in (no \(path)); run: metalplane login --server URL"
        case .http(let status, let body): "HTTP \(status): \(body)"
        case .io(let what): what
        }
    }
}
