import Foundation
import NIOHTTP1
import Testing

/// Browser sign-in through a realm: authlib, starting from the discovery URL alone, runs the authorization code flow
/// with PKCE against a tenant-style realm and checks every refusal (Tests/peers/authlib_code_flow.py).
@Suite struct AuthorizationCodeTests {
    @Test func authlibSignsInWithCodeAndPKCEAndEveryMisuseIsRefused() async throws {
        let controller = try await ControllerProcess()
        defer { controller.kill(SIGTERM) }
        let admin = try await controller.token()
        #expect(try await controller.call(.POST, "/api/v1/realms", bearer: admin, json: #"{"name": "browsers"}"#).status == 201)
        #expect(try await controller.call(.POST, "/api/v1/realms/browsers/users", bearer: admin,
                                          json: #"{"username": "bea", "password": "bea-password-1"}"#).status == 201)
        let redirect = "http://127.0.0.1:9/callback"
        let client = try await controller.call(.POST, "/api/v1/realms/browsers/clients", bearer: admin,
                                               json: #"{"clientId": "webapp", "public": true, "redirectUris": ["\#(redirect)"]}"#)
        #expect(client.status == 201 && client.text.contains(redirect), "\(client.text)")
        // A redirect URI that is not absolute http(s) is refused at registration.
        let bad = try await controller.call(.POST, "/api/v1/realms/browsers/clients", bearer: admin,
                                            json: #"{"clientId": "badapp", "public": true, "redirectUris": ["javascript:alert(1)"]}"#)
        #expect(bad.status == 400 && bad.text.contains("redirectUris"), "\(bad.text)")

        let result = try await run("python3", [ControllerProcess.root.appendingPathComponent("Tests/peers/authlib_code_flow.py").path,
                                               controller.baseURL, "browsers", "webapp", redirect, "bea", "bea-password-1"])
        #expect(result.status == 0, "\(result.output)")
        for line in ["signed in: sub=", "userinfo answers", "code used twice refused; its tokens revoked", "wrong verifier refused",
                     "unregistered redirect refused", "wrong password refused", "public client without PKCE refused",
                     "logout ended the session", "a form without its page's cookie refused"] {
            #expect(result.output.contains(line), "\(line): \(result.output)")
        }
        // The discovery document advertises what works, and only that.
        let discovery = try await controller.call(.GET, "/realms/browsers/.well-known/openid-configuration").json
        #expect(discovery["response_types_supported"] as? [String] == ["code"])
        #expect((discovery["grant_types_supported"] as? [String])?.contains("authorization_code") == true)
    }
}
