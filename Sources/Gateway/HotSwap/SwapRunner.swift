import Scheduler
import ServiceLifecycle

/// Runs the hot-swaps the API accepts, each in a child task of this service: a swap outlives the
/// request that started it, not the controller. At shutdown, running swaps are cancelled (a cancelled
/// swap fails and leaves the old instance serving) and awaited.
public final class SwapRunner: Service, Sendable {
    let hotSwap: HotSwap
    private let queue: AsyncStream<Swap>
    private let submissions: AsyncStream<Swap>.Continuation

    init(hotSwap: HotSwap) {
        self.hotSwap = hotSwap
        (queue, submissions) = AsyncStream.makeStream(of: Swap.self)
    }

    /// Starts `swap` (begun in the store by `InstanceService.beginSwap`).
    public func submit(_ swap: Swap) { submissions.yield(swap) }

    public func run() async throws {
        let submissions = self.submissions
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await swap in queue {
                    group.addTask { await self.hotSwap.run(swap) }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            submissions.finish()
        }
    }
}
