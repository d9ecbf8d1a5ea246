import Core
import IAM
import Testing

@Suite struct APIKeyTests {
    @Test func aKeyAuthenticatesUntilRevokedAndIsStoredOnlyAsAHash() async throws {
        let identity = try await makeIdentity()
        let admin = try await identity.authenticate(bearer: try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "a").accessToken)
        let created = try await identity.createAPIKey(NewAPIKey(name: "ci", roles: [.viewer]), by: admin)
        #expect(created.key.hasPrefix("mp_" + created.apiKey.prefix + "_"))
        let caller = try await identity.authenticate(bearer: created.key)
        #expect(caller.kind == .apiKey)
        #expect(caller.bindings.map(\.role) == [.viewer])
        await #expect(throws: IAMError.invalidToken("unknown API key")) { try await identity.authenticate(bearer: created.key + "x") }
        let realm = try identity.realm(named: "platform")
        _ = try await identity.revokeAPIKey(created.apiKey.id, in: realm, expectedVersion: 1)
        await #expect(throws: IAMError.invalidToken("API key revoked or expired")) { try await identity.authenticate(bearer: created.key) }
        await #expect(throws: IAMError.versionMismatch(expected: 1, actual: 2)) {
            try await identity.revokeAPIKey(created.apiKey.id, in: realm, expectedVersion: 1)
        }
    }

    @Test func aKeyCannotCarryMoreThanItsCreatorHolds() async throws {
        let identity = try await makeIdentity()
        let admin = try await identity.authenticate(bearer: try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "a").accessToken)
        let memberKey = try await identity.createAPIKey(NewAPIKey(name: "rw", roles: [.member]), by: admin)
        let member = try await identity.authenticate(bearer: memberKey.key)
        await #expect(throws: IAMError.roleEscalation(role: "platform-admin", scope: "platform")) {
            try await identity.createAPIKey(NewAPIKey(name: "up", roles: [.platformAdmin]), by: member)
        }
        _ = try await identity.createAPIKey(NewAPIKey(name: "same", roles: [.member]), by: member)
        let viewerKey = try await identity.createAPIKey(NewAPIKey(name: "ro", roles: [.viewer]), by: admin)
        let viewer = try await identity.authenticate(bearer: viewerKey.key)
        await #expect(throws: IAMError.forbidden(permission: "apikeys.write"), "viewers hold no apikeys.write") {
            try await identity.createAPIKey(NewAPIKey(name: "ro2", roles: [.viewer]), by: viewer)
        }
    }

    @Test func expiredKeysStopWorking() async throws {
        let clock = ManualClock()
        let identity = try await makeIdentity(clock: clock)
        let admin = try await identity.authenticate(bearer: try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "a").accessToken)
        let expiresAt = clock.clock.nowMillis() + 60_000
        let created = try await identity.createAPIKey(NewAPIKey(name: "short", expiresAt: expiresAt), by: admin)
        _ = try await identity.authenticate(bearer: created.key)
        clock.advance(seconds: 61)
        await #expect(throws: IAMError.invalidToken("API key revoked or expired")) { try await identity.authenticate(bearer: created.key) }
        await #expect(throws: IAMError.unprocessable(field: "expiresAt", reason: "must be in the future")) {
            try await identity.createAPIKey(NewAPIKey(name: "past", expiresAt: 1), by: admin)
        }
    }
}
