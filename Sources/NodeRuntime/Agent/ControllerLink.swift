import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NodeContract

/// The agent's outbound calls to the controller, in the contract's types, on its own HTTP client:
/// HTTPS verified against the operator's CA bundle when one is given (else the system's roots), and
/// no read timeout of its own, since the liveness stream waits for its answer as long as the session
/// lasts (every other call has its deadline).
///
/// Given several controller replicas, it talks to one at a time and moves to the next when a call
/// cannot reach it (a refused or broken connection, not an answer): the session token is the same
/// on every replica, so the agent keeps its session and its node id across the move.
struct ControllerLink: Sendable {
    let baseURLs: [String]
    private let current = NIOLockedValueBox(0)
    let client: HTTPClient

    /// The replica the next call goes to.
    var baseURL: String { baseURLs[current.withLockedValue { $0 } % baseURLs.count] }

    /// `caBundle`: PEM certificates the controller's certificate must chain to.
    init(baseURLs: [String], caBundle: String?) throws {
        precondition(!baseURLs.isEmpty)
        self.baseURLs = baseURLs
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caBundle { tls.trustRoots = .file(caBundle) }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(5)), decompression: .disabled)
        configuration.httpVersion = .http1Only
        // Lives as long as the agent process: the agent is the link.
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Joins (first time or again); the answer starts a new session.
    func register(_ request: RegistrationRequest) async throws -> RegistrationResponse {
        try await exchange(.POST, "/api/v1/agent/register", token: nil, body: request, as: RegistrationResponse.self)
    }

    /// A heartbeat: observed state out, desired state and commands back.
    func heartbeat(token: String, observed: ObservedState) async throws -> HeartbeatResponse {
        try await exchange(.POST, "/api/v1/agent/heartbeat", token: token, body: HeartbeatRequest(observed: observed), as: HeartbeatResponse.self)
    }

    /// Ships a telemetry batch.
    func telemetry(token: String, batch: TelemetryBatch) async throws {
        _ = try await exchange(.POST, "/api/v1/agent/telemetry", token: token, body: batch, as: Accepted.self)
    }

    /// Ships alerts as soon as they are raised.
    func alerts(token: String, _ upload: AlertUpload) async throws {
        _ = try await exchange(.POST, "/api/v1/agent/alerts", token: token, body: upload, as: Accepted.self)
    }

    /// Reports a finished (or failed) wipe.
    func wiped(token: String, _ report: WipeReport) async throws {
        _ = try await exchange(.POST, "/api/v1/agent/wiped", token: token, body: report, as: Accepted.self)
    }

    struct Accepted: Decodable {}

    /// Holds the liveness stream open: writes a pulse every `interval` while `keepGoing()` holds, and
    /// returns the controller's status when it ends the stream (401 when the session is no longer
    /// current), or 0 when `keepGoing()` stopped holding first. A dead link makes no error here: the controller notices the
    /// silence, and the heartbeat's deadline tells the agent.
    func pulse(token: String, every interval: Duration, while keepGoing: @escaping @Sendable () -> Bool) async throws -> Int {
        let (pulses, writer) = AsyncStream<ByteBuffer>.makeStream()
        let base = baseURL
        let url = base + "/api/v1/agent/pulse"
        return try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                defer { writer.finish() }
                while keepGoing() && !Task.isCancelled {
                    writer.yield(ByteBuffer(string: "\n"))
                    try? await Task.sleep(for: interval)
                }
                return nil
            }
            group.addTask { [client] in
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: "application/octet-stream")
                request.body = .stream(pulses, length: .unknown)
                do {
                    let response = try await client.execute(request, deadline: .distantFuture)
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    return Int(response.status.code)
                } catch {
                    if Self.isUnreachable(error) { moveOn(from: base) }
                    throw error
                }
            }
            // Whichever ends first ends both: the controller's answer, or the session changing here. A
            // stream of a gone session is abandoned rather than waited for: after a cut link its
            // connection may sit in TCP's retransmission backoff for seconds, and the new session
            // must pulse at once.
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first ?? 0
        }
    }

    /// A JWKS entry: RSA (`n`, `e`) or EC P-256 (`crv`, `x`, `y`), every member a string.
    typealias PublishedKey = [String: String]

    private struct Discovery: Decodable { var issuer: String }
    private struct KeySet: Decodable { var keys: [PublishedKey] }

    /// The platform realm's issuer and signing keys, which the node API verifies operators' tokens against.
    func platformKeys() async throws -> (issuer: String, keys: [PublishedKey]) {
        let discovery = try await exchange(.GET, "/realms/platform/.well-known/openid-configuration", token: nil, body: nil as String?, as: Discovery.self)
        let set = try await exchange(.GET, "/realms/platform/protocol/openid-connect/certs", token: nil, body: nil as String?, as: KeySet.self)
        return (discovery.issuer, set.keys)
    }

    func manifest(token: String, modelId: String) async throws -> ModelManifest {
        try await exchange(.GET, "/api/v1/store/models/\(ModelManifest.directoryName(of: modelId))/manifest", token: token,
                           body: nil as String?, as: ModelManifest.self)
    }

    /// Forwards a purge request for the controller to broadcast; returns the controller's answer as is.
    func forwardPurge(token: String, body: Data) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: baseURL + "/api/v1/agent/purge-staging")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        let collected = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Data(collected.readableBytesView))
    }

    /// Streams one store file from byte `offset` to `sink`, chunk by chunk.
    func download(token: String, modelId: String, path: String, from offset: Int64, sink: (ByteBuffer) async throws -> Void) async throws {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        let query = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        var request = HTTPClientRequest(url: baseURL + "/api/v1/store/models/\(ModelManifest.directoryName(of: modelId))/file?path=\(query)")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        let response = try await client.execute(request, timeout: .hours(6))
        guard response.status == .ok || response.status == .partialContent else {
            let body = try await response.body.collect(upTo: 1 << 16)
            throw AgentError.controller(status: Int(response.status.code), body: String(buffer: body))
        }
        if offset > 0 && response.status == .ok { throw AgentError.staging(modelId: modelId, reason: "the store ignored the range request") }
        for try await chunk in response.body { try await sink(chunk) }
    }

    /// `url` could not be reached: the next call goes to the next replica (unless another call moved on already).
    func moveOn(from url: String) {
        guard baseURLs.count > 1 else { return }
        current.withLockedValue { index in
            if baseURLs[index % baseURLs.count] == url { index = (index + 1) % baseURLs.count }
        }
    }

    /// An error that says the replica could not be reached or went away mid-call, as opposed to an answer.
    static func isUnreachable(_ error: any Error) -> Bool {
        if error is AgentError { return false }
        return error is HTTPClientError || error is ChannelError || error is NIOConnectionError || error is IOError
    }

    /// One call, tried on each replica in turn while they cannot be reached.
    private func exchange<Body: Encodable, Answer: Decodable>(_ method: HTTPMethod, _ path: String, token: String?, body: Body?,
                                                              as: Answer.Type) async throws -> Answer {
        var attempt = 0
        while true {
            let url = baseURL
            do {
                return try await exchange(url, method, path, token: token, body: body, as: Answer.self)
            } catch where Self.isUnreachable(error) && attempt + 1 < baseURLs.count {
                moveOn(from: url)
                attempt += 1
            } catch {
                if Self.isUnreachable(error) { moveOn(from: url) }
                throw error
            }
        }
    }

    private func exchange<Body: Encodable, Answer: Decodable>(_ baseURL: String, _ method: HTTPMethod, _ path: String, token: String?, body: Body?,
                                                              as: Answer.Type) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response = try await client.execute(request, timeout: .seconds(15))
        let collected = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok || response.status == .created || response.status == .accepted else {
            throw AgentError.controller(status: Int(response.status.code), body: String(buffer: collected))
        }
        return try JSONDecoder().decode(Answer.self, from: Data(collected.readableBytesView))
    }
}
