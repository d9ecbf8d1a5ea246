import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Redfish
import Storage

/// Join tokens: minted with a secret shown once, listed, revoked.
extension AgentService {
    /// Mints a join token; its secret is returned once and stored only as a hash.
    public func mintJoinToken(_ request: JoinTokenRequest) async throws -> MintedJoinToken {
        let singleUse = request.singleUse ?? true
        if let ttl = request.ttlSeconds, !(60...31_536_000).contains(ttl) {
            throw AgentError.invalidField(field: "ttlSeconds", reason: "must be between 60 and 31536000")
        }
        guard singleUse || request.ttlSeconds != nil else {
            throw AgentError.invalidField(field: "ttlSeconds", reason: "a reusable join token needs an expiry")
        }
        if let description = request.description, description.count > 200 {
            throw AgentError.invalidField(field: "description", reason: "at most 200 characters")
        }
        let now = clock.nowMillis()
        let id = Identifier.make("jt", at: now)
        let secret = "mpj_" + SecureRandom.token()
        let expires = request.ttlSeconds.map { now + Int64($0) * 1000 }
        let token = try await database.write { connection in
            try connection.execute("INSERT INTO join_tokens (id, secret_hash, single_use, expires_at, uses, description, created_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
                                   [.text(id), .text(Digest.sha256Hex(secret)), .bool(singleUse), .int(expires), .text(request.description), .integer(now)])
            return try connection.queryFirst(JoinToken.self, "SELECT * FROM join_tokens WHERE id = ?", [.text(id)])!
        }
        return MintedJoinToken(joinToken: token, token: secret)
    }

    /// Every join token, newest first.
    public func joinTokens() async throws -> [JoinToken] {
        try await database.read { try $0.query(JoinToken.self, "SELECT * FROM join_tokens ORDER BY id DESC LIMIT 1000") }
    }

    /// Revokes a join token; agents that joined with it keep their credentials.
    public func revokeJoinToken(_ id: String) async throws {
        let now = clock.nowMillis()
        let changed = try await database.write {
            try $0.execute("UPDATE join_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.integer(now), .text(id)])
        }
        guard changed == 1 else { throw AgentError.notFound(id) }
    }
}
