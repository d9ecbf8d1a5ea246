import Core
import IAM
import Testing

@Suite struct TokenTests {
    @Test func aPasswordGrantYieldsAVerifiableTokenWithRolesAndAnIDToken() async throws {
        let identity = try await makeIdentity()
        var request = passwordRequest("admin", "admin-password")
        request.scope = "openid"
        let grant = try await identity.issueToken(request, realmName: "platform", source: "127.0.0.1")
        #expect(grant.idToken != nil)
        #expect(grant.expiresIn == 300)
        let principal = try await identity.authenticate(bearer: grant.accessToken)
        #expect(principal.name == "admin")
        #expect(principal.bindings.map(\.role) == [.platformAdmin])
        let claims = try identity.verifiedClaims(grant.accessToken)
        #expect(claims["iss"] == "http://test/realms/platform")
        #expect(claims["realm_access"] == .object(["roles": .array(["platform-admin"])]))
    }

    @Test func wrongPasswordsAreRefusedAndThenThrottled() async throws {
        let clock = ManualClock()
        let identity = try await makeIdentity(clock: clock)
        for _ in 0..<3 {
            await #expect(throws: IAMError.invalidCredentials) {
                try await identity.issueToken(passwordRequest("admin", "wrong-password"), realmName: "platform", source: "10.0.0.1")
            }
        }
        await #expect(throws: IAMError.throttled(retryAfter: 30, subject: "platform/admin")) {
            try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "10.0.0.1")
        }
        clock.advance(seconds: 31)
        _ = try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "10.0.0.1")
        await #expect(throws: IAMError.invalidCredentials) {
            try await identity.issueToken(passwordRequest("nobody", "whatever-pass"), realmName: "platform", source: "10.0.0.1")
        }
    }

    @Test func refreshTokensRotateAndAReusedOneEndsTheSession() async throws {
        let identity = try await makeIdentity()
        let first = try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "a")
        let refresh = TokenRequest(fields: ["grant_type": "refresh_token", "client_id": "metalplane-cli", "refresh_token": first.refreshToken!], basicAuth: nil)
        let second = try await identity.issueToken(refresh, realmName: "platform", source: "a")
        #expect(second.refreshToken != first.refreshToken)
        #expect(second.sessionState == first.sessionState)
        await #expect(throws: IAMError.self) { try await identity.issueToken(refresh, realmName: "platform", source: "a") }
        await #expect(throws: IAMError.self) { try await identity.authenticate(bearer: second.accessToken) }
    }

    @Test func accessTokensExpireAndRevocationIsImmediate() async throws {
        let clock = ManualClock()
        let identity = try await makeIdentity(clock: clock)
        let grant = try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "a")
        _ = try await identity.authenticate(bearer: grant.accessToken)
        try await identity.revoke(token: grant.refreshToken!, realmName: "platform")
        await #expect(throws: IAMError.invalidToken("session has ended")) { try await identity.authenticate(bearer: grant.accessToken) }
        let later = try await identity.issueToken(passwordRequest("admin", "admin-password"), realmName: "platform", source: "a")
        clock.advance(seconds: 301)
        await #expect(throws: IAMError.invalidToken("token expired")) { try await identity.authenticate(bearer: later.accessToken) }
    }

    @Test func clientCredentialsNeedAConfidentialClientAndItsSecret() async throws {
        let identity = try await makeIdentity()
        let realm = try identity.realm(named: "platform")
        let created = try await identity.createClient(clientID: "automation", isPublic: false, in: realm)
        let good = TokenRequest(fields: ["grant_type": "client_credentials"], basicAuth: ("automation", created.clientSecret!))
        let grant = try await identity.issueToken(good, realmName: "platform", source: "a")
        #expect(grant.refreshToken == nil)
        let principal = try await identity.authenticate(bearer: grant.accessToken)
        #expect(principal.kind == .client)
        let bad = TokenRequest(fields: ["grant_type": "client_credentials"], basicAuth: ("automation", "nope"))
        await #expect(throws: IAMError.invalidClient("client authentication failed")) { try await identity.issueToken(bad, realmName: "platform", source: "a") }
        let publicClient = TokenRequest(fields: ["grant_type": "client_credentials", "client_id": "metalplane-cli"], basicAuth: nil)
        await #expect(throws: IAMError.self) { try await identity.issueToken(publicClient, realmName: "platform", source: "a") }
    }

    @Test func aTokenOfOneRealmIsNotAcceptedAsAnotherRealms() async throws {
        let identity = try await makeIdentity()
        let acme = try await identity.createRealm(name: "acme", displayName: "Acme", tenantID: "ten_acme")
        _ = try await identity.createClient(clientID: "portal", isPublic: true, in: acme)
        let alice = try await identity.createUser(NewUser(username: "alice", email: "alice@acme.example", password: "alice-password"), in: acme)
        _ = try await identity.bind(.domainAdmin, over: .tenant("ten_acme"), to: .user, id: alice.id, in: acme)
        let grant = try await identity.issueToken(passwordRequest("alice", "alice-password", client: "portal"), realmName: "acme", source: "a")
        let principal = try await identity.authenticate(bearer: grant.accessToken)
        #expect(principal.realmName == "acme")
        #expect(Authorizer.decide(principal, .usersRead, at: try identity.realm(named: "platform").scopePath) == .forbidden)
        #expect(Authorizer.decide(principal, .usersRead, at: ScopePath(tenantID: "ten_other")) == .hidden)
        _ = try await identity.setRealmStatus("acme", .suspended)
        await #expect(throws: IAMError.realmSuspended("acme")) { try await identity.authenticate(bearer: grant.accessToken) }
    }
}

@Suite struct SessionEndTests {
    @Test func disablingAUserEndsItsSessionsAtOnce() async throws {
        let identity = try await makeIdentity()
        let realm = try identity.realm(named: "platform")
        let dave = try await identity.createUser(NewUser(username: "dave", email: nil, password: "dave-password"), in: realm)
        let grant = try await identity.issueToken(passwordRequest("dave", "dave-password"), realmName: "platform", source: "a")
        _ = try await identity.authenticate(bearer: grant.accessToken)
        _ = try await identity.updateUser(dave.id, in: realm, patch: UserPatch(enabled: false), expectedVersion: nil)
        await #expect(throws: IAMError.invalidToken("session has ended")) { try await identity.authenticate(bearer: grant.accessToken) }
        await #expect(throws: IAMError.invalidCredentials) {
            try await identity.issueToken(passwordRequest("dave", "dave-password"), realmName: "platform", source: "a")
        }
    }
}
