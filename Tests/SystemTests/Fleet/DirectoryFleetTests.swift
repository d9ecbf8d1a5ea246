import Foundation
import NIOHTTP1
import TestPeers
import Testing

/// A tenant realm federated with slapd on a host of its own: the controller reaches the directory
/// across the fabric, the operator works from the operator host, and cutting the directory's cable
/// mid-life changes nobody.
@Suite(.serialized) struct DirectoryFleetTests {
    static let base = SlapdServer.suffix

    static var seed: String {
        var ldif = "dn: ou=people,\(base)\nobjectClass: organizationalUnit\nou: people\n\n"
        ldif += "dn: ou=groups,\(base)\nobjectClass: organizationalUnit\nou: groups\n\n"
        for index in 1...4 {
            ldif += "dn: uid=user\(index),ou=people,\(base)\nobjectClass: inetOrgPerson\nuid: user\(index)\ncn: User \(index)\nsn: \(index)\n"
                + "mail: user\(index)@dir.example\nuserPassword: directory-password-\(index)\n\n"
        }
        ldif += "dn: cn=team,ou=groups,\(base)\nobjectClass: groupOfNames\ncn: team\nmember: uid=user1,ou=people,\(base)\n\n"
        ldif += "dn: cn=engineers,ou=groups,\(base)\nobjectClass: groupOfNames\ncn: engineers\nmember: cn=team,ou=groups,\(base)\n\n"
        return ldif
    }

    @Test func directoryUsersSignInAcrossTheFabricAndACutCableChangesNobody() async throws {
        let fleet = try await Fleet(nodes: 1, extra: ["dir"])
        defer { fleet.down() }
        let host = try #require(fleet.extraHosts["dir"])
        let slapd = try await SlapdServer(ldif: Self.seed, host: host.management, launcher: fleet.launcher(host))
        defer { slapd.stop() }
        let controller = try await ControllerProcess(fleet: fleet)
        defer { controller.kill(SIGTERM) }
        let admin = try await controller.token()
        let tenant = try await controller.readyTenant(slug: "dirco", admin: "boss", password: "boss-password-1", by: admin)
        let directories = "/api/v1/realms/dirco/directories"

        // A mapping above the tenant admin's own roles is refused, and nothing is created.
        let escalation = try await controller.call(.POST, directories, bearer: tenant.admin, json: """
            {"name": "corp", "url": "\(slapd.url)", "bindDn": "\(SlapdServer.rootDN)", "bindSecret": "\(SlapdServer.rootPassword)",
             "userBase": "ou=people,\(Self.base)", "groupBase": "\(Self.base)",
             "groupMappings": [{"groupDn": "cn=engineers,ou=groups,\(Self.base)", "role": "platform-admin", "scope": "tenant:other"}]}
            """)
        #expect(escalation.status == 403 && escalation.text.contains("role_escalation"), "\(escalation.text)")

        let created = try await controller.call(.POST, directories, bearer: tenant.admin, json: """
            {"name": "corp", "url": "\(slapd.url)", "bindDn": "\(SlapdServer.rootDN)", "bindSecret": "\(SlapdServer.rootPassword)",
             "userBase": "ou=people,\(Self.base)", "groupBase": "\(Self.base)", "timeoutSeconds": 2,
             "groupMappings": [{"groupDn": "cn=engineers,ou=groups,\(Self.base)", "role": "project-admin", "scope": "project:\(tenant.project)"}]}
            """)
        try #require(created.status == 201, "\(created.text)")
        #expect(!created.text.contains(SlapdServer.rootPassword) && created.json["hasBindSecret"] as? Bool == true)
        let id = try #require(created.json["id"] as? String)

        let report = try await controller.call(.POST, directories + "/\(id)/sync", bearer: tenant.admin)
        #expect(report.json["outcome"] as? String == "ok" && report.json["created"] as? Int == 4, "\(report.text)")

        // user1 is in engineers through team: signed in with the directory's password, holding the mapped role.
        let token = try await controller.token(realm: "dirco", username: "user1", password: "directory-password-1")
        let me = try await controller.call(.GET, "/api/v1/me", bearer: token)
        #expect(me.text.contains("project-admin") && me.text.contains(tenant.project), "\(me.text)")
        let wrong = try await controller.call(.POST, "/realms/dirco/protocol/openid-connect/token",
                                              form: "grant_type=password&client_id=metalplane-cli&username=user2&password=directory-password-1")
        #expect(wrong.status == 401)

        // The browser flow (authlib from the operator host, the sign-in page and its form) for a directory user.
        let redirect = "http://127.0.0.1:9/callback"
        let client = try await controller.call(.POST, "/api/v1/realms/dirco/clients", bearer: tenant.admin,
                                               json: #"{"clientId": "webapp", "public": true, "redirectUris": ["\#(redirect)"]}"#)
        #expect(client.status == 201, "\(client.text)")
        let browser = try await fleet.run(on: fleet.operatorHost, ["python3", ControllerProcess.root.appendingPathComponent("Tests/peers/authlib_code_flow.py").path,
                                                                   "http://\(controller.listenAddress)", "dirco", "webapp", redirect, "user1", "directory-password-1"])
        #expect(browser.status == 0 && browser.output.contains("signed in: sub=") && browser.output.contains("wrong password refused"), "\(browser.output)")

        // The directory's cable is cut: the sync says so and changes nobody; sign-ins get a retryable 503.
        try await fleet.cut(host)
        let cut = try await controller.call(.POST, directories + "/\(id)/sync", bearer: tenant.admin)
        #expect(cut.json["outcome"] as? String == "unreachable" && cut.json["disabled"] as? Int == 0, "\(cut.text)")
        let enabled = try await controller.call(.GET, "/api/v1/realms/dirco/users?enabled=true", bearer: tenant.admin).json["items"] as? [[String: Any]] ?? []
        #expect(enabled.filter { $0["directoryId"] as? String == id }.count == 4)
        let unavailable = try await controller.call(.POST, "/realms/dirco/protocol/openid-connect/token",
                                                    form: "grant_type=password&client_id=metalplane-cli&username=user2&password=directory-password-2")
        #expect(unavailable.status == 503 && unavailable.text.contains("directory_unavailable"), "\(unavailable.status) \(unavailable.text)")

        // Mended, and user3 deleted in the directory: the next sync disables them and user2 signs in.
        try await fleet.mend(host)
        try slapd.modify("dn: uid=user3,ou=people,\(Self.base)\nchangetype: delete\n\n")
        let after = try await controller.call(.POST, directories + "/\(id)/sync", bearer: tenant.admin)
        #expect(after.json["outcome"] as? String == "ok" && after.json["disabled"] as? Int == 1, "\(after.text)")
        _ = try await controller.token(realm: "dirco", username: "user2", password: "directory-password-2")
    }
}
