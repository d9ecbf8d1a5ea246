import Core
import Cryptography
import Foundation
import NIOConcurrencyHelpers

/// Verifies the bearer tokens the node API takes: access tokens of the controller's platform realm
/// (a platform operator's, or a client's service account), checked on the node against the realm's
/// JWKS fetched from the controller, so no call goes to the controller per request.
///
/// The keys and the issuer are cached; a token signed by a key not seen yet (a rotation) makes the
/// verifier fetch the JWKS again, at most once per `refetchSeconds`. A revoked session's token
/// stays valid here until it expires (access tokens live 5 minutes by default): the node cannot
/// see the controller's revocations.
final class OperatorTokens: Sendable {
    /// What a verified token lets its bearer do on this node.
    struct Grant: Sendable, Equatable {
        var subject: String
        var roles: Set<String>
        /// Restart the agent, purge staged copies: the platform realm's admins.
        var isOperator: Bool { roles.contains(Self.operatorRole) }
        static let operatorRole = "platform-admin"
    }

    enum Refusal: Error, Equatable {
        case missing
        case invalid(String)
    }

    private struct Keys {
        var issuer: String?
        var byID: [String: any JWSKey] = [:]
        var fetchedAt: ContinuousClock.Instant?
    }

    private let link: ControllerLink
    private let keys = NIOLockedValueBox(Keys())
    private let refetchSeconds: Int64

    init(link: ControllerLink, refetchSeconds: Int64 = 5) {
        self.link = link
        self.refetchSeconds = refetchSeconds
    }

    /// The grant of `authorization` (the request's `Authorization` header value).
    func verify(authorization: String?) async throws(Refusal) -> Grant {
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.count > 7 else { throw .missing }
        let token = String(authorization.dropFirst(7))
        let parsed: JSONWebToken.Parsed
        do { parsed = try JSONWebToken.parse(token) } catch { throw .invalid("not a signed token (\(error))") }
        guard let key = await key(parsed.keyID) else { throw .invalid("signed by a key the platform realm does not publish") }
        do { try JSONWebToken.verify(parsed, with: key) } catch { throw .invalid("bad signature") }
        let claims = parsed.claims
        guard claims["iss"]?.stringValue == keys.withLockedValue({ $0.issuer }) else { throw .invalid("not issued by the platform realm") }
        guard claims["typ"]?.stringValue == "Bearer" else { throw .invalid("not an access token") }
        guard case .int(let expiry) = claims["exp"], expiry > Int64(Date().timeIntervalSince1970) else { throw .invalid("expired") }
        var roles: Set<String> = []
        if case .object(let access) = claims["realm_access"], case .array(let names) = access["roles"] {
            roles = Set(names.compactMap(\.stringValue))
        }
        guard !roles.isEmpty else { throw .invalid("the token holds no platform role") }
        return Grant(subject: claims["preferred_username"]?.stringValue ?? claims["sub"]?.stringValue ?? "?", roles: roles)
    }

    /// The platform realm's key `id`, fetching the JWKS (and the issuer) when it is not known yet.
    private func key(_ id: String) async -> (any JWSKey)? {
        let (known, fetchedAt) = keys.withLockedValue { ($0.byID[id], $0.fetchedAt) }
        if let known { return known }
        if let fetchedAt, ContinuousClock.now - fetchedAt < .seconds(refetchSeconds) { return nil }
        keys.withLockedValue { $0.fetchedAt = .now }
        guard let (issuer, published) = try? await link.platformKeys() else { return nil }
        var fresh: [String: any JWSKey] = [:]
        for entry in published {
            // RS256 and ES256 keys; a key of a kind this agent does not know is skipped, not fatal.
            if let kid = entry["kid"], let key = try? JWSKeys.publicKey(jwk: entry) { fresh[kid] = key }
        }
        return keys.withLockedValue { cached in
            cached.issuer = issuer
            cached.byID = fresh
            return fresh[id]
        }
    }
}
