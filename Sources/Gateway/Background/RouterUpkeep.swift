import Scheduler
import ServiceLifecycle

/// Keeps the router's table fresh (every 200 ms: an instance that turns ready is routable within
/// that, one that fails stops being chosen) and writes the buffered usage records each second.
struct RouterUpkeep: Service {
    let router: InferenceRouter
    let usage: UsageLedger

    func run() async throws {
        var tick = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await router.refresh()
            tick += 1
            if tick % 5 == 0 { await usage.flush() }
            try? await Task.sleep(for: .milliseconds(200))
        }
        await usage.flush()
    }
}
