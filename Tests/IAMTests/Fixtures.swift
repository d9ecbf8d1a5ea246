import Core
import Cryptography
import Foundation
import IAM
import Logging
import NIOConcurrencyHelpers
import Storage
import TestPeers

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let millis = NIOLockedValueBox<Int64>(1_800_000_000_000)
    var clock: WallClock { WallClock { [millis] in Date(millis: millis.withLockedValue { $0 }) } }
    func advance(seconds: Int64) { millis.withLockedValue { $0 += seconds * 1000 } }
}

/// An IdentityService over a fresh store (SQLite, or PostgreSQL in its CI run), with cheap password hashing.
func makeIdentity(clock: ManualClock = ManualClock()) async throws -> IdentityService {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-iam-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let database = try TestStore.open("iam", clock: clock.clock)
    try await database.migrate(IAMSchema.migrations)
    let identity = IdentityService(
        database: database,
        configuration: IdentityConfiguration(publicBaseURL: "http://test", secretsKey: SecureRandom.bytes(32), passwordHasher: PasswordHasher(logN: 4, r: 8, p: 1),
                                             throttle: .init(accountFailures: 3, addressFailures: 100, baseLockSeconds: 30, maxLockSeconds: 900),
                                             spareSigningKeys: 0),
        clock: clock.clock, workers: BlockingWorkPool(threads: 1), logger: Logger(label: "test"))
    try await identity.start()
    try await PlatformBootstrap.run(identity: identity, dataDirectory: directory.path, password: "admin-password", logger: Logger(label: "test"))
    return identity
}

func passwordRequest(_ username: String, _ password: String, client: String = PlatformBootstrap.cliClientID) -> TokenRequest {
    TokenRequest(fields: ["grant_type": "password", "client_id": client, "username": username, "password": password], basicAuth: nil)
}
