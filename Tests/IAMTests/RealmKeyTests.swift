import Core
import Cryptography
import Foundation
@testable import IAM
import Logging
import Storage
import Testing

/// Realm signing keys are sealed at rest with the secrets key, and a realm's key can be replaced
/// without signing anyone out.
@Suite struct RealmKeyTests {
    struct World {
        let directory: URL
        let database: SQLiteDatabase
        let clock: ManualClock
        let secretsKey: [UInt8]

        func identity(secretsKey: [UInt8]? = nil) async throws -> IdentityService {
            let identity = IdentityService(
                database: database,
                configuration: IdentityConfiguration(publicBaseURL: "http://test", secretsKey: secretsKey ?? self.secretsKey,
                                                     passwordHasher: PasswordHasher(logN: 4, r: 8, p: 1), spareSigningKeys: 0),
                clock: clock.clock, workers: BlockingWorkPool(threads: 1), logger: Logger(label: "test"))
            try await identity.start()
            return identity
        }

        static func make() async throws -> World {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-keys-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let clock = ManualClock()
            let database = try SQLiteDatabase(path: directory.appendingPathComponent("iam.sqlite").path, clock: clock.clock)
            try await database.migrate(IAMSchema.migrations)
            return World(directory: directory, database: database, clock: clock, secretsKey: SecureRandom.bytes(32))
        }

        func storedKeys() async throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try await database.read { connection in
                try connection.query("SELECT kid, private_pem FROM realm_keys", []).map { (try $0.string("kid"), try $0.string("private_pem")) }
            })
        }
    }

    static func keyID(of token: String) throws -> String {
        let header = try #require(Base64URL.decode(token.split(separator: ".")[0]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(header)) as? [String: Any])
        return try #require(object["kid"] as? String)
    }

    @Test func signingKeysAreSealedAtRestAndUnreadableWithAnotherKey() async throws {
        let world = try await World.make()
        let identity = try await world.identity()
        try await PlatformBootstrap.run(identity: identity, dataDirectory: world.directory.path, password: "admin-password", logger: Logger(label: "test"))
        let stored = try await world.storedKeys()
        #expect(!stored.isEmpty)
        for (kid, value) in stored {
            #expect(value.hasPrefix("sealed:v1:") && !value.contains("PRIVATE KEY"), "realm key \(kid) is stored in the clear")
        }
        // A controller restarted with the same secrets key reads them; one with another key cannot.
        let restarted = try await world.identity()
        let grant = try await restarted.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "127.0.0.1")
        #expect(try await identity.authenticate(bearer: grant.accessToken).name == "admin")
        await #expect(throws: (any Error).self) { _ = try await world.identity(secretsKey: SecureRandom.bytes(32)) }
    }

    @Test func aKeyStoredInTheClearIsSealedAtTheNextStart() async throws {
        let world = try await World.make()
        let identity = try await world.identity()
        try await PlatformBootstrap.run(identity: identity, dataDirectory: world.directory.path, password: "admin-password", logger: Logger(label: "test"))
        let kid = try #require(try await world.storedKeys().keys.first)
        // What an older controller wrote: the PEM itself.
        let pem = try #require(try identity.keyRing.key(kid)?.key.privateKeyPEM())
        try await world.database.write { _ = try $0.execute("UPDATE realm_keys SET private_pem = ? WHERE kid = ?", [.text(pem), .text(kid)]) }
        let grant = try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "127.0.0.1")
        let upgraded = try await world.identity()
        #expect(try await upgraded.authenticate(bearer: grant.accessToken).name == "admin")
        #expect(try await world.storedKeys()[kid]?.hasPrefix("sealed:v1:") == true)
    }

    @Test func aRotatedKeyKeepsVerifyingItsTokensUntilTheyExpireThenGoes() async throws {
        let world = try await World.make()
        let identity = try await world.identity()
        try await PlatformBootstrap.run(identity: identity, dataDirectory: world.directory.path, password: "admin-password", logger: Logger(label: "test"))
        let realm = try identity.realm(named: "platform")
        let before = try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "127.0.0.1")
        let oldKey = try Self.keyID(of: before.accessToken)

        let rsaKeys = { (ring: SigningKeyRing) in Set(ring.keys(realmID: realm.id).filter { $0.algorithm == .rs256 }.map(\.keyID)) }
        let oldES256 = try #require(identity.keyRing.activeKey(realmID: realm.id, algorithm: .es256)).keyID
        let rotation = try await identity.rotateSigningKey(realmName: "platform")
        // Both algorithms' keys turn over; the retired ones stay until their tokens have expired.
        #expect(rotation.activeKeyId != oldKey && Set(rotation.retiredKeyIds) == [oldKey, oldES256])
        #expect(rsaKeys(identity.keyRing) == [oldKey, rotation.activeKeyId], "both in the JWKS")
        #expect(identity.keyRing.activeKey(realmID: realm.id, algorithm: .es256)?.keyID != oldES256)
        // Tokens signed before still verify; new ones carry the new key.
        #expect(try await identity.authenticate(bearer: before.accessToken).name == "admin")
        let after = try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "127.0.0.1")
        #expect(try Self.keyID(of: after.accessToken) == rotation.activeKeyId)
        #expect(try await world.storedKeys()[rotation.activeKeyId]?.hasPrefix("sealed:v1:") == true)

        // Once every token the old key signed has expired, the next start deletes it.
        world.clock.advance(seconds: 301)
        let later = try await world.identity()
        #expect(rsaKeys(later.keyRing) == [rotation.activeKeyId] && later.keyRing.keys(realmID: realm.id).count == 2)
        #expect(try await world.storedKeys()[oldKey] == nil)
        let fresh = try await later.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "127.0.0.1")
        #expect(try await later.authenticate(bearer: fresh.accessToken).name == "admin")
    }

    @Test func aRealmMadeWithoutAReadyKeyGetsExactlyOneWhenFirstNeededOrFilled() async throws {
        // No spare keys (the test identity keeps none): realms are made at once, keyless.
        let identity = try await makeIdentity()
        let first = try await identity.createRealm(name: "burst-a", displayName: "A", tenantID: "ten_a")
        let second = try await identity.createRealm(name: "burst-b", displayName: "B", tenantID: "ten_b")
        #expect(identity.keyRing.activeKey(realmID: first.id) == nil && identity.keyRing.activeKey(realmID: second.id) == nil)
        // Two sign-ins racing for the first key: one key is stored, both sign with it.
        async let one = identity.signingKey(for: first)
        async let two = identity.signingKey(for: first)
        let (a, b) = try await (one, two)
        #expect(a.keyID == b.keyID)
        #expect(identity.keyRing.keys(realmID: first.id).filter { $0.algorithm == .rs256 }.count == 1)
        // The background filler gives the other realm its key.
        #expect(try await identity.fillMissingSigningKeys() >= 1)
        #expect(identity.keyRing.activeKey(realmID: second.id) != nil && identity.realmsWithoutSigningKeys == 0)
    }
}
