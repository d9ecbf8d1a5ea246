import Foundation
@testable import IAM
import Testing
import TestPeers

/// libldap through the CLDAP shim against a real slapd (memberof, refint and syncprov overlays).
@Suite(.serialized) struct LDAPConnectionTests {
    static func people(_ count: Int) -> String {
        var ldif = "dn: ou=people,\(SlapdServer.suffix)\nobjectClass: organizationalUnit\nou: people\n\n"
        ldif += "dn: ou=groups,\(SlapdServer.suffix)\nobjectClass: organizationalUnit\nou: groups\n\n"
        for index in 0..<count {
            ldif += """
                dn: uid=user\(index),ou=people,\(SlapdServer.suffix)
                objectClass: inetOrgPerson
                uid: user\(index)
                cn: User \(index)
                sn: \(index)
                mail: user\(index)@example.test
                userPassword: password-\(index)


                """
        }
        return ldif
    }

    @Test func bindsSearchesInPagesAndSeesTheOverlays() async throws {
        let slapd = try await SlapdServer(ldif: Self.people(620))
        let connection = try LDAPConnection(.init(url: slapd.url, startTLS: false, caFile: nil))
        #expect(try connection.bind(dn: SlapdServer.rootDN, password: SlapdServer.rootPassword))
        // More entries than the server's size limit (500): paging reads them all.
        let everyone = try connection.search(base: "ou=people,\(SlapdServer.suffix)", filter: "(objectClass=inetOrgPerson)",
                                             attributes: ["uid", "mail", "entryUUID"], pageSize: 200)
        #expect(everyone.count == 620)
        #expect(everyone.allSatisfy { $0.first("entryUUID")?.count == 36 && $0.first("uid") != nil })

        // The memberof overlay keeps memberOf on members of groups added online.
        try slapd.modify("""
            dn: cn=engineers,ou=groups,\(SlapdServer.suffix)
            changetype: add
            objectClass: groupOfNames
            cn: engineers
            member: uid=user1,ou=people,\(SlapdServer.suffix)

            """)
        let one = try connection.search(base: "ou=people,\(SlapdServer.suffix)", filter: "(uid=\(LDAPConnection.escapeFilterValue("user1")))",
                                         attributes: ["memberOf"])
        #expect(one.first?.all("memberOf") == ["cn=engineers,ou=groups,\(SlapdServer.suffix)"])
        // A filter value cannot widen the search.
        #expect(try connection.search(base: SlapdServer.suffix, filter: "(uid=\(LDAPConnection.escapeFilterValue("user*")))", attributes: ["uid"]).isEmpty)

        // A user's own password binds; a wrong or empty one does not.
        let user = try LDAPConnection(.init(url: slapd.url, startTLS: false, caFile: nil))
        #expect(try user.bind(dn: "uid=user7,ou=people,\(SlapdServer.suffix)", password: "password-7"))
        #expect(try !user.bind(dn: "uid=user7,ou=people,\(SlapdServer.suffix)", password: "wrong"))
        #expect(try !user.bind(dn: "uid=user7,ou=people,\(SlapdServer.suffix)", password: ""))

        // A directory that is down is "unreachable", not a refusal.
        slapd.stop()
        let down = try LDAPConnection(.init(url: slapd.url, startTLS: false, caFile: nil, timeoutSeconds: 2))
        #expect {
            try down.bind(dn: SlapdServer.rootDN, password: SlapdServer.rootPassword)
        } throws: { error in
            if case LDAPError.unreachable = error { return true }
            return false
        }
    }

    @Test func filterValuesAreEscaped() {
        #expect(LDAPConnection.escapeFilterValue("a*b(c)\\d") == #"a\2ab\28c\29\5cd"#)
        #expect(LDAPConnection.escapeFilterValue("zoë") == "zoë")
    }

    @Test func activeDirectoryGUIDsReadAsTheirCanonicalText() {
        let wire: [UInt8] = [0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
        let text = wire.withUnsafeBytes { LDAPConnection.text($0, attribute: "objectguid") }
        #expect(text == "00112233-4455-6677-8899-aabbccddeeff")
        #expect(Array("uid".utf8).withUnsafeBytes { LDAPConnection.text($0, attribute: "uid") } == "uid")
    }
}
