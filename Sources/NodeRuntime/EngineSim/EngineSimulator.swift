import Foundation
import Hummingbird
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore

/// `metalplane engine-sim`: an OpenAI-compatible engine **simulator** for tests, demos and scale runs,
/// in the spirit of llm-d's inference simulator. It generates placeholder tokens on a timing model
/// (time to first token, inter-token latency, slowdown with concurrent sequences up to
/// `maxNumSeqs`, a waiting queue beyond), exposes vLLM's metric names, and injects faults. Every
/// answer names it a simulator; it is never passed off as inference.
public struct EngineSimulator: Sendable {
    public struct Settings: Sendable {
        public var model: String
        public var timeToFirstTokenMillis = 40.0
        public var interTokenMillis = 8.0
        public var maxNumSeqs = 8
        public var warmupSeconds = 0.0
        /// Health never turns ready (a wedged warmup).
        public var hangWarmup = false
        /// Fraction of requests answered 500.
        public var errorRate = 0.0
        /// Exit with status 3 this long after start (a crashing runner).
        public var crashAfterSeconds: Double?
        public var defaultMaxTokens = 16
        /// When set, every route but `/health` wants `Authorization: Bearer <apiKey>` (llama-server's `--api-key` rule).
        public var apiKey: String?

        public init(model: String) { self.model = model }
    }

    final class Counters: Sendable {
        struct Values {
            var running = 0
            var waiting = 0
            var promptTokens = 0
            var generationTokens = 0
            var requests = 0
            var failures = 0
            var firstTokenSeconds = 0.0
            var e2eSeconds = 0.0
        }

        let values = NIOLockedValueBox(Values())
    }

    let settings: Settings
    let started = ContinuousClock.now
    let counters = Counters()
    let slots: AsyncSlots

    public init(_ settings: Settings) {
        self.settings = settings
        slots = AsyncSlots(settings.maxNumSeqs)
    }

    public static let fingerprint = "metalplane-engine-sim (a simulator: no inference)"

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        if let key = settings.apiKey { router.add(middleware: APIKeyCheck(key: key)) }
        router.get("/health") { _, _ -> Response in
            let ready = !settings.hangWarmup && ContinuousClock.now - started >= .milliseconds(Int64(settings.warmupSeconds * 1000))
            return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: ready ? #"{"status":"ok","simulator":true}"# : #"{"status":"loading","simulator":true}"#)))
        }
        router.get("/v1/models") { _, _ in
            Self.json(["object": "list", "data": [["id": settings.model, "object": "model", "owned_by": Self.fingerprint]]])
        }
        router.get("/metrics") { _, _ in
            let v = counters.values.withLockedValue { $0 }
            let text = """
                # engine-sim: a simulator; metric names follow vLLM's
                vllm:num_requests_running{model_name="\(settings.model)"} \(v.running)
                vllm:num_requests_waiting{model_name="\(settings.model)"} \(v.waiting)
                vllm:prompt_tokens_total{model_name="\(settings.model)"} \(v.promptTokens)
                vllm:generation_tokens_total{model_name="\(settings.model)"} \(v.generationTokens)
                vllm:request_success_total{model_name="\(settings.model)"} \(v.requests - v.failures)
                vllm:time_to_first_token_seconds_sum{model_name="\(settings.model)"} \(v.firstTokenSeconds)
                vllm:time_to_first_token_seconds_count{model_name="\(settings.model)"} \(v.requests)
                vllm:e2e_request_latency_seconds_sum{model_name="\(settings.model)"} \(v.e2eSeconds)
                vllm:e2e_request_latency_seconds_count{model_name="\(settings.model)"} \(v.requests)

                """
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("/v1/chat/completions") { request, _ in try await complete(request) }
        return router
    }

    private func complete(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 8 << 20)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any],
              let messages = object["messages"] as? [[String: Any]] else {
            return Self.json(["error": ["message": "a JSON body with messages is required", "type": "invalid_request_error"]], status: .badRequest)
        }
        let model = object["model"] as? String ?? settings.model
        guard model == settings.model else {
            return Self.json(["error": ["message": "model \(model) is not served here (serving \(settings.model))", "type": "invalid_request_error"]], status: .notFound)
        }
        if settings.errorRate > 0, Double.random(in: 0..<1) < settings.errorRate {
            counters.values.withLockedValue { $0.requests += 1; $0.failures += 1 }
            return Self.json(["error": ["message": "engine-sim injected failure", "type": "server_error"]], status: .internalServerError)
        }
        let prompt = messages.compactMap { $0["content"] as? String }.joined(separator: " ").split(whereSeparator: \.isWhitespace).count
        let maxTokens = (object["max_tokens"] as? Int) ?? (object["max_completion_tokens"] as? Int) ?? settings.defaultMaxTokens
        let stream = object["stream"] as? Bool ?? false
        let includeUsage = ((object["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false
        let id = "chatcmpl-sim-" + UUID().uuidString.prefix(12).lowercased()
        let created = Int(Date().timeIntervalSince1970)
        let began = ContinuousClock.now
        counters.values.withLockedValue { $0.waiting += 1 }
        await slots.acquire()
        counters.values.withLockedValue { $0.waiting -= 1; $0.running += 1 }
        let usage: [String: Int] = ["prompt_tokens": prompt, "completion_tokens": maxTokens, "total_tokens": prompt + maxTokens]
        let counters = self.counters
        let slots = self.slots
        @Sendable func finish(firstToken: Duration) {
            counters.values.withLockedValue {
                $0.running -= 1
                $0.requests += 1
                $0.promptTokens += prompt
                $0.generationTokens += maxTokens
                $0.firstTokenSeconds += DurationSeconds.of(firstToken)
                $0.e2eSeconds += DurationSeconds.of(ContinuousClock.now - began)
            }
            slots.release()
        }
        if !stream {
            var firstToken = Duration.zero
            for index in 0..<maxTokens {
                try? await Task.sleep(for: delay(index))
                if index == 0 { firstToken = ContinuousClock.now - began }
            }
            finish(firstToken: firstToken)
            return Self.json([
                "id": id, "object": "chat.completion", "created": created, "model": model, "system_fingerprint": Self.fingerprint,
                "choices": [["index": 0, "finish_reason": "length", "message": ["role": "assistant", "content": Self.text(maxTokens)]]],
                "usage": usage,
            ])
        }
        let simulator = self
        let events = ResponseBody { writer in
            var firstToken = Duration.zero
            defer { finish(firstToken: firstToken) }
            for index in 0..<maxTokens {
                try await Task.sleep(for: simulator.delay(index))
                if index == 0 { firstToken = ContinuousClock.now - began }
                var delta: [String: Any] = ["content": (index == 0 ? "" : " ") + "sim\(index)"]
                if index == 0 { delta["role"] = "assistant" }
                let chunk: [String: Any] = ["id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                                            "system_fingerprint": Self.fingerprint,
                                            "choices": [["index": 0, "delta": delta, "finish_reason": index == maxTokens - 1 ? "length" : NSNull()]]]
                try await writer.write(Self.event(chunk))
            }
            if includeUsage {
                try await writer.write(Self.event(["id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                                                   "choices": [], "usage": usage]))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: events)
    }

    /// The time before token `index`: first-token latency, then inter-token latency, both slowed by load.
    func delay(_ index: Int) -> Duration {
        let running = counters.values.withLockedValue { $0.running }
        let slowdown = 1 + Double(max(running - 1, 0)) / Double(max(settings.maxNumSeqs, 1))
        let millis = (index == 0 ? settings.timeToFirstTokenMillis : settings.interTokenMillis) * slowdown
        return .microseconds(Int64(millis * 1000))
    }

    static func text(_ tokens: Int) -> String { (0..<tokens).map { "sim\($0)" }.joined(separator: " ") }

    static func event(_ object: [String: Any]) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n")
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A counting semaphore for async code: at most `limit` holders, the rest wait in order.
final class AsyncSlots: Sendable {
    private let state: NIOLockedValueBox<(free: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(_ limit: Int) { state = NIOLockedValueBox((max(limit, 1), [])) }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLockedValue { state -> Bool in
                if state.free > 0 { state.free -= 1; return true }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty { state.free += 1; return nil }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// The engine's own credential check, as llama-server does it: 401 in OpenAI's error shape unless
/// the bearer key matches; `/health` answers everyone.
struct APIKeyCheck<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        let presented = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : "" } ?? ""
        guard presented.utf8.count == key.utf8.count, zip(presented.utf8, key.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            return EngineSimulator.json(["error": ["message": "Invalid API Key", "type": "authentication_error", "code": 401]], status: .unauthorized)
        }
        return try await next(request, context)
    }
}
