import Foundation
@testable import IAM
import Testing
import TestPeers

/// A realm federated with slapd: each sync rule of the issue, and signing in with the directory's password.
@Suite(.serialized) struct DirectorySyncTests {
    static let base = SlapdServer.suffix
    static let engineers = "cn=engineers,ou=groups,\(base)"

    /// Six people; team-a (user1) inside engineers (with user3); another "engineers" under ou=other (user2).
    static func seededDirectory() async throws -> SlapdServer {
        let slapd = try await SlapdServer(ldif: LDAPConnectionTests.people(6) + "dn: ou=other,\(base)\nobjectClass: organizationalUnit\nou: other\n\n")
        try slapd.modify(DirectorySnapshotTests.group("team-a", in: "groups", members: [DirectorySnapshotTests.user(1)])
                         + DirectorySnapshotTests.group("engineers", in: "groups", members: ["cn=team-a,ou=groups,\(base)", DirectorySnapshotTests.user(3)])
                         + DirectorySnapshotTests.group("engineers", in: "other", members: [DirectorySnapshotTests.user(2)]))
        return slapd
    }

    static func federatedRealm(_ slapd: SlapdServer, mode: Directory.Mode = .import) async throws -> (IdentityService, Realm, Directory) {
        let identity = try await makeIdentity()
        let realm = try await identity.createRealm(name: "acme", displayName: "Acme", tenantID: "ten_acme")
        _ = try await identity.createClient(clientID: "portal", isPublic: true, in: realm)
        var input = DirectoryInput()
        input.name = "corp"
        input.url = slapd.url
        input.bindDn = SlapdServer.rootDN
        input.bindSecret = SlapdServer.rootPassword
        input.userBase = "ou=people,\(base)"
        input.groupBase = base
        input.mode = mode
        input.groupMappings = [Directory.GroupMapping(groupDn: engineers, role: .projectAdmin, scope: "project:prj_web")]
        let directory = try await identity.createDirectory(input, in: realm)
        return (identity, realm, directory)
    }

    static func user(_ name: String, _ identity: IdentityService, _ realm: Realm) async throws -> User {
        try #require(try await identity.user(named: name, in: realm))
    }

    static func roles(of name: String, _ identity: IdentityService, _ realm: Realm, password: String) async throws -> Set<String> {
        let grant = try await identity.issueToken(passwordRequest(name, password, client: "portal"), realmName: realm.name, source: "10.1.0.1")
        let principal = try await identity.authenticate(bearer: grant.accessToken)
        return Set(principal.bindings.map { "\($0.role.rawValue) \($0.scope)" })
    }

    @Test func aSyncImportsUsersAndNestedGroupsGrantTheirRolesButASameNamedGroupElsewhereDoesNot() async throws {
        let slapd = try await Self.seededDirectory()
        let (identity, realm, directory) = try await Self.federatedRealm(slapd)
        let report = try await identity.syncDirectory(directory.id, in: realm)
        #expect(report.outcome == .ok && report.users == 6 && report.created == 6 && report.disabled == 0)
        let user1 = try await Self.user("user1", identity, realm)
        #expect(user1.directoryId == directory.id && user1.email == "user1@example.test" && user1.enabled)
        // user1 is in engineers through team-a; user2 only in ou=other's engineers.
        #expect(try await Self.roles(of: "user1", identity, realm, password: "password-1") == ["project-admin project:prj_web"])
        #expect(try await Self.roles(of: "user3", identity, realm, password: "password-3") == ["project-admin project:prj_web"])
        #expect(try await Self.roles(of: "user2", identity, realm, password: "password-2").isEmpty)
        // The password is the directory's: a wrong one is refused, none is stored.
        await #expect(throws: IAMError.invalidCredentials) {
            try await identity.issueToken(passwordRequest("user1", "password-2", client: "portal"), realmName: "acme", source: "10.1.0.2")
        }
        // A second sync with nothing changed changes nothing.
        let again = try await identity.syncDirectory(directory.id, in: realm)
        #expect(again.created == 0 && again.updated == 0 && again.disabled == 0 && again.enabled == 0)
    }

    @Test func aDeletedUserIsDisabledWithSessionsEndedAndEnabledAgainWhenTheyReturn() async throws {
        let slapd = try await Self.seededDirectory()
        let (identity, realm, directory) = try await Self.federatedRealm(slapd)
        try await identity.syncDirectory(directory.id, in: realm)
        let grant = try await identity.issueToken(passwordRequest("user4", "password-4", client: "portal"), realmName: "acme", source: "10.1.0.1")
        _ = try await identity.authenticate(bearer: grant.accessToken)
        let id = try await Self.user("user4", identity, realm).id

        try slapd.modify("dn: \(DirectorySnapshotTests.user(5))\nchangetype: delete\n\n")
        // user4 moves out of the searched subtree (an account parked elsewhere): gone too, entryUUID kept.
        try slapd.modify("dn: \(DirectorySnapshotTests.user(4))\nchangetype: modrdn\nnewrdn: uid=user4\ndeleteoldrdn: 1\nnewsuperior: ou=other,\(Self.base)\n\n")
        let report = try await identity.syncDirectory(directory.id, in: realm)
        #expect(report.disabled == 2)
        #expect(try await Self.user("user5", identity, realm).enabled == false)
        #expect(try await Self.user("user4", identity, realm).enabled == false)
        await #expect(throws: IAMError.self) { try await identity.authenticate(bearer: grant.accessToken) }
        await #expect(throws: IAMError.invalidCredentials) {
            try await identity.issueToken(passwordRequest("user5", "password-5", client: "portal"), realmName: "acme", source: "10.1.0.1")
        }

        // Back in the subtree: enabled again, the same identity.
        try slapd.modify("dn: uid=user4,ou=other,\(Self.base)\nchangetype: modrdn\nnewrdn: uid=user4\ndeleteoldrdn: 1\nnewsuperior: ou=people,\(Self.base)\n\n")
        let back = try await identity.syncDirectory(directory.id, in: realm)
        #expect(back.enabled == 1 && back.disabled == 0)
        let returned = try await Self.user("user4", identity, realm)
        #expect(returned.enabled && returned.id == id)

        // An admin's disable is the admin's: the sync does not undo it.
        _ = try await identity.updateUser(id, in: realm, patch: UserPatch(enabled: false), expectedVersion: nil)
        try await identity.syncDirectory(directory.id, in: realm)
        #expect(try await Self.user("user4", identity, realm).enabled == false)
    }

    @Test func anUnreachableDirectoryChangesNoUser() async throws {
        let slapd = try await Self.seededDirectory()
        let (identity, realm, directory) = try await Self.federatedRealm(slapd)
        try await identity.syncDirectory(directory.id, in: realm)
        slapd.stop()
        let report = try await identity.syncDirectory(directory.id, in: realm)
        #expect(report.outcome == .unreachable && report.disabled == 0)
        let users = try await identity.users(in: realm, usernamePrefix: "user", enabled: true, page: .init(limit: 50))
        #expect(users.items.count == 6)
        #expect(try await identity.directory(directory.id, in: realm).lastSync?.outcome == .unreachable)
        // Signing in needs the directory: a typed, retryable refusal, not "wrong password".
        let refusal = await #expect(throws: IAMError.self) {
            try await identity.issueToken(passwordRequest("user1", "password-1", client: "portal"), realmName: "acme", source: "10.1.0.3")
        }
        #expect(refusal?.code == "directory_unavailable")
    }

    @Test func aRenamedUserKeepsTheirIdentityAndAnEmailCollisionIsReportedOnTheUser() async throws {
        let slapd = try await Self.seededDirectory()
        let (identity, realm, directory) = try await Self.federatedRealm(slapd)
        // A local user already holds user5's email.
        let local = try await identity.createUser(NewUser(username: "local", email: "USER5@example.test", password: "local-password-1"), in: realm)
        let first = try await identity.syncDirectory(directory.id, in: realm)
        #expect(first.created == 6 && first.problems == 1)
        let user5 = try await Self.user("user5", identity, realm)
        #expect(user5.email == nil && user5.syncProblem?.contains(local.id) == true)

        let id = try await Self.user("user1", identity, realm).id
        try slapd.modify("dn: \(DirectorySnapshotTests.user(1))\nchangetype: modrdn\nnewrdn: uid=renamed1\ndeleteoldrdn: 1\n\n")
        let report = try await identity.syncDirectory(directory.id, in: realm)
        #expect(report.updated == 1 && report.created == 0)
        let renamed = try await Self.user("renamed1", identity, realm)
        #expect(renamed.id == id)
        #expect(try await identity.user(named: "user1", in: realm) == nil)
        // Still in engineers (refint moved the membership): still the mapped role.
        #expect(try await Self.roles(of: "renamed1", identity, realm, password: "password-1") == ["project-admin project:prj_web"])
    }

    @Test func onDemandModeSignsInFromTheDirectoryWithoutASync() async throws {
        let slapd = try await Self.seededDirectory()
        let (identity, realm, directory) = try await Self.federatedRealm(slapd, mode: .onDemand)
        #expect(try await identity.user(named: "user3", in: realm) == nil)
        #expect(try await Self.roles(of: "user3", identity, realm, password: "password-3") == ["project-admin project:prj_web"])
        let user3 = try await Self.user("user3", identity, realm)
        #expect(user3.directoryId == directory.id)
        // Taken out of engineers: the next sign-in has no role.
        try slapd.modify("dn: \(Self.engineers)\nchangetype: modify\ndelete: member\nmember: \(DirectorySnapshotTests.user(3))\n\n")
        #expect(try await Self.roles(of: "user3", identity, realm, password: "password-3").isEmpty)
        // A directory user's password cannot be set here.
        await #expect(throws: IAMError.self) {
            try await identity.updateUser(user3.id, in: realm, patch: UserPatch(password: "a-new-password-1"), expectedVersion: nil)
        }
        // The directory's managed group cannot be edited by hand.
        let groups = try await identity.groups(in: realm, page: .init(limit: 10)).items
        await #expect(throws: IAMError.self) {
            try await identity.setMembership(group: groups[0].id, user: user3.id, member: true, in: realm)
        }
    }
}
