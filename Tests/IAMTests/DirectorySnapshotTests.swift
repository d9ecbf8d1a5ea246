import Foundation
@testable import IAM
import Testing
import TestPeers

/// Reading a directory's users and their groups from slapd: nested groups by DN, a same-named group
/// elsewhere granting nothing, renames keeping the user's id, deletes leaving no membership (refint).
@Suite(.serialized) struct DirectorySnapshotTests {
    static let base = SlapdServer.suffix

    static func group(_ name: String, in unit: String, members: [String]) -> String {
        "dn: cn=\(name),ou=\(unit),\(base)\nchangetype: add\nobjectClass: groupOfNames\ncn: \(name)\n"
            + members.map { "member: \($0)\n" }.joined() + "\n"
    }

    static func user(_ index: Int) -> String { "uid=user\(index),ou=people,\(base)" }

    @Test func nestedGroupsBySameDNAndRenamesKeepTheUser() async throws {
        let slapd = try await SlapdServer(ldif: LDAPConnectionTests.people(5) + "dn: ou=other,\(Self.base)\nobjectClass: organizationalUnit\nou: other\n\n")
        // team-a ⊂ engineers ⊂ staff, staff ⊂ engineers (a cycle); another "engineers" under ou=other.
        try slapd.modify(Self.group("team-a", in: "groups", members: [Self.user(1)])
                         + Self.group("engineers", in: "groups", members: ["cn=team-a,ou=groups,\(Self.base)", Self.user(3)])
                         + Self.group("staff", in: "groups", members: ["cn=engineers,ou=groups,\(Self.base)"])
                         + Self.group("engineers", in: "other", members: [Self.user(2)]))
        try slapd.modify("dn: cn=engineers,ou=groups,\(Self.base)\nchangetype: modify\nadd: member\nmember: cn=staff,ou=groups,\(Self.base)\n\n")

        let mapping = DirectorySnapshot.Mapping(userBase: "ou=people,\(Self.base)", groupBase: Self.base)
        let connection = try LDAPConnection(.init(url: slapd.url, startTLS: false, caFile: nil))
        #expect(try connection.bind(dn: SlapdServer.rootDN, password: SlapdServer.rootPassword))
        let before = try DirectorySnapshot.read(connection, mapping: mapping)
        #expect(before.users.count == 5)
        func groups(_ name: String, _ snapshot: DirectorySnapshot) -> Set<String> { snapshot.users.first { $0.username == name }?.groups ?? [] }
        let engineers = "cn=engineers,ou=groups,dc=example,dc=test", staff = "cn=staff,ou=groups,dc=example,dc=test"
        #expect(groups("user1", before) == ["cn=team-a,ou=groups,dc=example,dc=test", engineers, staff])
        #expect(groups("user3", before) == [engineers, staff])
        // The same-named group in ou=other is not ou=groups' engineers.
        #expect(groups("user2", before) == ["cn=engineers,ou=other,dc=example,dc=test"])
        #expect(groups("user4", before).isEmpty)
        #expect(before.users.first { $0.username == "user1" }?.email == "user1@example.test")

        // Renamed: same id, new name and DN; refint moves its memberships with it.
        let id = before.users.first { $0.username == "user1" }!.externalID
        try slapd.modify("dn: \(Self.user(1))\nchangetype: modrdn\nnewrdn: uid=renamed1\ndeleteoldrdn: 1\n\n")
        // Deleted: refint takes it out of its groups.
        try slapd.modify("dn: \(Self.user(3))\nchangetype: delete\n\n")
        let after = try DirectorySnapshot.read(connection, mapping: mapping)
        let renamed = try #require(after.users.first { $0.externalID == id })
        #expect(renamed.username == "renamed1" && renamed.dn.hasPrefix("uid=renamed1,"))
        #expect(renamed.groups.contains(engineers))
        #expect(after.users.count == 4 && !after.users.contains { $0.username == "user3" })
    }

    @Test func expansionCutsCyclesAndKeepsDirectGroups() {
        let members = ["a": ["u1", "b"], "b": ["a", "u2"], "c": ["u3"]]
        let expanded = DirectorySnapshot.expand(members)
        #expect(expanded["u1"] == ["a", "b"] && expanded["u2"] == ["a", "b"] && expanded["u3"] == ["c"])
        #expect(expanded["a"] == nil)
        #expect(DirectorySnapshot.normalized("UID=Zoe, OU=People,dc=X") == "uid=zoe,ou=people,dc=x")
    }
}
