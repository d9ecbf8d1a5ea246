import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NodeContract
import Scheduler

/// The hot-swap protocol (walkthrough, day 14): load B on the target node → B answers test prompts
/// within the budget → the router flips from A to B in one step → A drains its in-flight requests,
/// then unloads. If B never becomes healthy, B is removed and A keeps serving untouched.
struct HotSwap: Sendable {
    let instances: InstanceService
    let router: InferenceRouter
    let logger: Logger
    let loadTimeout: Duration
    let healthBudgetMillis: Double
    let drainTimeout: Duration

    /// For the health check's test prompts, for the process's life (AsyncHTTPClient traps if a client is dropped unshut).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(decompression: .disabled)
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    func run(_ swap: Swap) async {
        do {
            let ready = try await waitUntilReady(swap.toInstance)
            try await instances.advance(swap: swap.id, to: .checking)
            let slowest = try await healthCheck(ready)
            try await instances.flip(swap: swap)
            await router.refresh()
            logger.notice("hot-swap flipped", metadata: ["swap": .string(swap.id), "to": .string(swap.toInstance), "healthMillis": .stringConvertible(slowest)])
            // A request that chose A just before the flip registers within moments: wait a beat, then for A's in-flight to reach zero.
            try await Task.sleep(for: .milliseconds(200))
            let deadline = ContinuousClock.now + drainTimeout
            while router.inFlight(swap.fromInstance) > 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            _ = try await instances.stop(swap.fromInstance)
            try await instances.advance(swap: swap.id, to: .done, healthMillis: slowest)
            logger.notice("hot-swap done: the old instance drained and unloads", metadata: ["swap": .string(swap.id), "from": .string(swap.fromInstance)])
        } catch {
            logger.error("hot-swap failed; the old instance keeps serving", metadata: ["swap": .string(swap.id), "error": .string("\(error)")])
            _ = try? await instances.stop(swap.toInstance)
            try? await instances.advance(swap: swap.id, to: .failed, error: "\(error)")
        }
    }

    private func waitUntilReady(_ id: String) async throws -> ModelInstance {
        let deadline = ContinuousClock.now + loadTimeout
        while ContinuousClock.now < deadline {
            let instance = try await instances.instance(id)
            if instance.phase == .ready, instance.endpoint != nil { return instance }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SwapError("the new instance did not become ready within \(loadTimeout)")
    }

    /// Three short prompts straight to B; each must answer 200 within the budget. Returns the slowest, ms.
    private func healthCheck(_ instance: ModelInstance) async throws -> Double {
        var slowest = 0.0
        for prompt in ["ping", "Say OK", "1+1="] {
            var request = HTTPClientRequest(url: instance.endpoint! + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Authorization", value: "Bearer " + instances.engineKeys.key(instanceID: instance.id))
            let body: [String: Any] = ["model": instance.modelId, "messages": [["role": "user", "content": prompt]], "max_tokens": 2, "temperature": 0]
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            let started = ContinuousClock.now
            let response = try await Self.client.execute(request, timeout: .milliseconds(Int64(healthBudgetMillis)))
            _ = try await response.body.collect(upTo: 1 << 20)
            let elapsed = ContinuousClock.now - started
            let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            guard response.status == .ok, millis <= healthBudgetMillis else {
                throw SwapError("health check \"\(prompt)\" answered \(response.status.code) in \(Int(millis)) ms (budget \(Int(healthBudgetMillis)) ms)")
            }
            slowest = max(slowest, millis)
        }
        return slowest
    }
}

struct SwapError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
