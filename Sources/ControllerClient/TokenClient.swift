import NIOHTTP1
import NIOCore
import Foundation

/// The CLI's side of the token endpoint: password sign-in and refresh.
public enum TokenClient {
    public struct Tokens {
        public var accessToken: String
        public var refreshToken: String?
        public var expiresIn: Int
    }

    public static func passwordGrant(server: String, realm: String, clientID: String, username: String, password: String) async throws -> Tokens {
        try await request(server: server, realm: realm, fields: [
            "grant_type": "password", "client_id": clientID, "username": username, "password": password, "scope": "openid",
        ])
    }

    public static func refresh(_ credentials: StoredCredentials) async throws -> Tokens {
        guard let refreshToken = credentials.refreshToken else { throw CLIError.notLoggedIn(CredentialStore.path) }
        return try await request(server: credentials.server, realm: credentials.realm, fields: [
            "grant_type": "refresh_token", "client_id": credentials.clientId, "refresh_token": refreshToken,
        ])
    }

    private static func request(server: String, realm: String, fields: [String: String]) async throws -> Tokens {
        let reply = try await HTTPCall.send(.POST, "\(server)/realms/\(realm)/protocol/openid-connect/token",
                                            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: HTTPCall.form(fields))
        guard reply.status == 200 else { throw CLIError.http(status: reply.status, body: reply.text) }
        let json = try reply.json()
        guard let access = json["access_token"] as? String else { throw CLIError.http(status: reply.status, body: reply.text) }
        return Tokens(accessToken: access, refreshToken: json["refresh_token"] as? String, expiresIn: json["expires_in"] as? Int ?? 300)
    }

    /// Credentials with an access token valid for at least ten more seconds, refreshing (and saving) if needed.
    public static func fresh() async throws -> StoredCredentials {
        var credentials = try CredentialStore.load()
        if credentials.accessExpiresAt - Date().timeIntervalSince1970 < 10 {
            let tokens = try await refresh(credentials)
            credentials.accessToken = tokens.accessToken
            credentials.refreshToken = tokens.refreshToken ?? credentials.refreshToken
            credentials.accessExpiresAt = Date().timeIntervalSince1970 + Double(tokens.expiresIn)
            try CredentialStore.save(credentials)
        }
        return credentials
    }
}
