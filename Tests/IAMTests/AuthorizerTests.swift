import IAM
import Testing

@Suite struct AuthorizerTests {
    func principal(_ role: Role, _ scope: Scope, tenant: String?) -> Principal {
        Principal(kind: .user, id: "u", name: "u", realmID: "r", realmName: "r", tenantID: tenant,
                  bindings: [RoleBinding(id: "b", role: role, scope: scope, principalKind: .user, principalID: "u")])
    }

    @Test func platformAdminsMayDoEverythingEverywhere() {
        let admin = principal(.platformAdmin, .platform, tenant: nil)
        #expect(Authorizer.decide(admin, .platformManage, at: .platform) == .allowed)
        #expect(Authorizer.decide(admin, .usersWrite, at: ScopePath(tenantID: "t1")) == .allowed)
    }

    @Test func anotherTenantsResourcesAreHiddenNotForbidden() {
        let domainAdmin = principal(.domainAdmin, .tenant("a"), tenant: "a")
        #expect(Authorizer.decide(domainAdmin, .usersWrite, at: ScopePath(tenantID: "a")) == .allowed)
        #expect(Authorizer.decide(domainAdmin, .usersRead, at: ScopePath(tenantID: "b")) == .hidden)
        #expect(Authorizer.decide(domainAdmin, .platformManage, at: .platform) == .forbidden)
    }

    @Test func lesserRolesAreForbiddenInTheirOwnTenant() {
        let viewer = principal(.viewer, .tenant("a"), tenant: "a")
        #expect(Authorizer.decide(viewer, .usersRead, at: ScopePath(tenantID: "a")) == .allowed)
        #expect(Authorizer.decide(viewer, .usersWrite, at: ScopePath(tenantID: "a")) == .forbidden)
    }

    @Test func nobodyGrantsAboveTheirRankOrReach() {
        let projectAdmin = principal(.projectAdmin, .project("p1"), tenant: "a")
        #expect(Authorizer.mayGrant(projectAdmin, role: .member, at: ScopePath(tenantID: "a", projectID: "p1")))
        #expect(!Authorizer.mayGrant(projectAdmin, role: .domainAdmin, at: ScopePath(tenantID: "a", projectID: "p1")))
        #expect(!Authorizer.mayGrant(projectAdmin, role: .member, at: ScopePath(tenantID: "a", projectID: "p2")))
    }

    @Test func scopesParseAndPrintTheirStoredForm() {
        for text in ["platform", "tenant:t1", "org:o1", "project:p1"] { #expect(Scope(text)?.description == text) }
        #expect(Scope("galaxy:1") == nil)
        #expect(Scope("tenant:") == nil)
    }
}

@Suite struct GroupTests {
    @Test func membersInheritTheGroupsRolesUntilRemoved() async throws {
        let identity = try await makeIdentity()
        let realm = try identity.realm(named: "platform")
        let carol = try await identity.createUser(NewUser(username: "carol", email: nil, password: "carol-password"), in: realm)
        let operators = try await identity.createGroup(name: "operators", in: realm)
        _ = try await identity.bind(.viewer, over: .platform, to: .group, id: operators.id, in: realm)
        let token = { try await identity.issueToken(passwordRequest("carol", "carol-password"), realmName: "platform", source: "a").accessToken }
        #expect(try await identity.authenticate(bearer: try await token()).bindings.isEmpty)
        try await identity.setMembership(group: operators.id, user: carol.id, member: true, in: realm)
        #expect(try await identity.authenticate(bearer: try await token()).bindings.map(\.role) == [.viewer])
        #expect(try await identity.group(operators.id, in: realm).members == [carol.id])
        try await identity.setMembership(group: operators.id, user: carol.id, member: false, in: realm)
        #expect(try await identity.authenticate(bearer: try await token()).bindings.isEmpty)
        await #expect(throws: IAMError.duplicate(what: "group", value: "operators")) { try await identity.createGroup(name: "operators", in: realm) }
    }
}
