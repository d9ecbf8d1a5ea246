import Core
import Cryptography
import Foundation
import Logging

/// First-start setup: the `platform` realm, its public CLI client and the super-admin `admin`.
public enum PlatformBootstrap {
    /// The public client the CLI signs in with.
    public static let cliClientID = "metalplane-cli"
    /// The super-admin's username.
    public static let adminUsername = "admin"
    /// The file, in the data directory, a generated admin password is written to (mode 0600).
    public static let passwordFileName = "bootstrap-admin-password"

    /// Creates what is missing. The admin password comes from `password` or is generated and
    /// written once to `<dataDir>/bootstrap-admin-password`; it is never logged.
    public static func run(identity: IdentityService, dataDirectory: String, password: String?, logger: Logger) async throws {
        let realm = try await identity.createRealm(name: Realm.platformName, displayName: "Metalplane platform", tenantID: nil)
        // The platform realm signs the operators' tokens from the first minute: its key is made now, once.
        try await identity.ensureSigningKey(realm)
        let clients = try await identity.clients(in: realm, page: PageRequest(limit: PageRequest.maxLimit))
        if !clients.items.contains(where: { $0.clientID == cliClientID }) {
            _ = try await identity.createClient(clientID: cliClientID, isPublic: true, in: realm)
        }
        let existing = try await identity.users(in: realm, usernamePrefix: adminUsername, enabled: nil, page: PageRequest(limit: 5))
        guard !existing.items.contains(where: { $0.username == adminUsername }) else { return }
        let chosen = password ?? SecureRandom.token(byteCount: 18)
        if password == nil {
            let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(passwordFileName).path
            guard FileManager.default.createFile(atPath: path, contents: Data((chosen + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw IAMError.invalidField(field: "dataDir", reason: "cannot write \(path)")
            }
            logger.notice("generated the super-admin password; it is in \(path) (mode 0600)")
        }
        let admin = try await identity.createUser(NewUser(username: adminUsername, email: nil, password: chosen), in: realm)
        _ = try await identity.bind(.platformAdmin, over: .platform, to: .user, id: admin.id, in: realm)
        logger.notice("bootstrapped realm platform with super-admin \(adminUsername)")
    }
}
