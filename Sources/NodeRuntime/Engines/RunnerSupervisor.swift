import AsyncHTTPClient
import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NodeContract

/// Supervises one model instance: stage its model (and companions), launch its engine, hold the
/// warmup to a hard deadline, restart a crashed runner with backoff, and report every step.
final class RunnerSupervisor: Sendable {
    struct Context: Sendable {
        var configuration: AgentConfiguration
        var stager: Stager
        var records: RunnerRecords
        var events: EventLog
        var logger: Logger
        var selfExecutable: String
        var token: @Sendable () -> String?
        /// Where the supervision loop runs, owned by the agent's link service.
        var work: OwnedWork
        var onUse: @Sendable (String) -> Void
    }

    let spec: InstanceSpec
    let context: Context
    private let current = NIOLockedValueBox<InstanceStatus>(InstanceStatus(instanceId: "", modelId: "", phase: .staging))
    private let child = NIOLockedValueBox<ChildProcess?>(nil)
    private let stopping = NIOLockedValueBox(false)
    /// `stop()` was called: the loop is cancelled.
    private let stopRequested = Signal()
    /// The loop has ended.
    private let ended = Signal()

    init(spec: InstanceSpec, context: Context) {
        self.spec = spec
        self.context = context
        current.withLockedValue { $0 = InstanceStatus(instanceId: spec.instanceId, modelId: spec.modelId, phase: .staging) }
    }

    var status: InstanceStatus { current.withLockedValue { $0 } }

    /// The models this instance keeps in use: its own and its companions.
    var modelsInUse: [String] { [spec.modelId] + spec.companions }

    /// Starts the supervision loop in the agent's owned work.
    func start() {
        let accepted = context.work.spawn {
            // The loop runs until it ends by itself or `stop()` asks; either way `ended` fires.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.run() }
                group.addTask { await self.stopRequested.wait() }
                await group.next()
                group.cancelAll()
            }
            self.ended.fire()
        }
        if !accepted { ended.fire() }
    }

    /// Stops the runner (SIGTERM, then SIGKILL) and waits for the loop to end.
    func stop() async {
        stopping.withLockedValue { $0 = true }
        stopRequested.fire()
        if let running = child.withLockedValue({ $0 }) { await running.stop() }
        await ended.wait()
        try? FileManager.default.removeItem(atPath: keyFile)
        update { $0.phase = .stopped; $0.endpoint = nil }
        context.events.append(kind: "runner.stopped", fields: ["instance": spec.instanceId, "model": spec.modelId])
    }

    private var isStopping: Bool { stopping.withLockedValue { $0 } }

    private func update(_ change: (inout InstanceStatus) -> Void) { current.withLockedValue { change(&$0) } }

    private func run() async {
        let configuration = context.configuration
        var backoff = configuration.restartBackoffSeconds
        var folder: String?
        while !isStopping {
            do {
                guard let token = context.token() else { throw AgentError.engine("not joined to the controller yet") }
                for companion in spec.companions { _ = try await context.stager.stage(companion, token: token) }
                folder = try await context.stager.stage(spec.modelId, token: token)
                break
            } catch {
                update { $0.phase = .staging; $0.lastError = "staging failed: \(error)" }
                context.logger.error("staging failed; retrying", metadata: ["instance": .string(spec.instanceId), "error": .string("\(error)")])
                if !(await pause(&backoff)) { return }
            }
        }
        guard let folder else { return }
        backoff = configuration.restartBackoffSeconds
        while !isStopping {
            for model in modelsInUse { context.onUse(model) }
            let failure = await runOnce(folder: folder, resetBackoff: { backoff = configuration.restartBackoffSeconds })
            guard !isStopping else { return }
            update { $0.phase = .failed; $0.endpoint = nil; $0.lastError = failure; $0.restarts += 1 }
            context.events.append(kind: "runner.failed", fields: ["instance": spec.instanceId, "model": spec.modelId, "reason": failure])
            context.logger.error("RunnerFailed; restarting with backoff", metadata: [
                "instance": .string(spec.instanceId), "reason": .string(failure), "backoffSeconds": .stringConvertible(backoff)])
            if !(await pause(&backoff)) { return }
        }
    }

    /// The instance's engine key, for engines that read it from a file (mode 0600, beside the runner's log).
    private var keyFile: String { context.configuration.stateDirectory + "/runners/\(spec.instanceId).key" }

    /// Launches the engine once; returns why it ended.
    private func runOnce(folder: String, resetBackoff: () -> Void) async -> String {
        let port: Int
        let launch: EngineLaunch
        let process: ChildProcess
        do {
            port = try FreePort.find(host: context.configuration.dataAddress)
            if let key = spec.apiKey {
                try FileManager.default.createDirectory(atPath: context.configuration.stateDirectory + "/runners", withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: keyFile, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw AgentError.io("cannot write \(keyFile)")
                }
            }
            launch = try EngineDriver.launch(spec, modelFolder: folder, port: port, configuration: context.configuration,
                                             selfExecutable: context.selfExecutable, keyFile: keyFile)
            update { $0.phase = .starting; $0.lastError = nil }
            let logPath = context.configuration.stateDirectory + "/runners/\(spec.instanceId).log"
            try FileManager.default.createDirectory(atPath: context.configuration.stateDirectory + "/runners", withIntermediateDirectories: true)
            process = try ChildProcess(executable: launch.executable, arguments: launch.arguments, environment: launch.environment, logPath: logPath)
        } catch {
            return "RunnerFailed: cannot launch \(spec.engine.rawValue): \(error)"
        }
        child.withLockedValue { $0 = process }
        context.records.add(spec.instanceId, pid: process.pid)
        defer {
            context.records.remove(spec.instanceId)
            child.withLockedValue { $0 = nil }
        }
        update { $0.phase = .warmingUp }
        context.events.append(kind: "runner.warmup", fields: ["instance": spec.instanceId, "model": spec.modelId, "pid": String(process.pid)])
        let deadline = ContinuousClock.now + .milliseconds(Int64(context.configuration.warmupDeadlineSeconds * 1000))
        while true {
            if isStopping { return "stopped" }
            if process.hasExited { return "RunnerFailed: \(spec.engine.rawValue) exited with status \(await process.wait()) during warmup" }
            if await healthy(port: port, path: launch.healthPath) { break }
            if ContinuousClock.now >= deadline {
                let seconds = context.configuration.warmupDeadlineSeconds
                context.logger.critical("warmup deadline exceeded: the runner is killed and reported failed; the node keeps dispatching", metadata: [
                    "instance": .string(spec.instanceId), "model": .string(spec.modelId), "deadlineSeconds": .stringConvertible(seconds),
                    "diagnosis": .string("the engine did not become healthy within \(seconds) s. A runner parked at 0% CPU during warmup usually means "
                        + "a wedged accelerator: if this line recurs on this node, drain it and reboot the machine to reset the GPU "
                        + "(METALPLANE_WARMUP_DEADLINE_SECONDS raises the deadline for models that load slowly)"),
                ])
                process.kill9()
                _ = await process.wait()
                return "RunnerFailed: warmup exceeded the \(seconds) s deadline (possibly a wedged GPU: reboot the node if it recurs)"
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        resetBackoff()
        update { $0.phase = .ready; $0.endpoint = "http://\(context.configuration.dataAddress):\(port)"; $0.lastError = nil }
        context.events.append(kind: "runner.ready", fields: ["instance": spec.instanceId, "model": spec.modelId, "port": String(port)])
        context.logger.info("runner ready", metadata: ["instance": .string(spec.instanceId), "model": .string(spec.modelId), "port": .stringConvertible(port)])
        let status = await process.wait()
        return "RunnerFailed: \(spec.engine.rawValue) exited with status \(status)"
    }

    /// Sleeps for the backoff (doubling it, capped); false when stopping.
    private func pause(_ backoff: inout Double) async -> Bool {
        let delay = backoff
        backoff = min(backoff * 2, context.configuration.restartBackoffMaxSeconds)
        do { try await Task.sleep(for: .milliseconds(Int64(delay * 1000))) } catch { return false }
        return !isStopping
    }

    private func healthy(port: Int, path: String) async -> Bool {
        let request = HTTPClientRequest(url: "http://\(context.configuration.dataAddress):\(port)\(path)")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return response.status == .ok
    }
}

/// A free TCP port on `host` (the address engines listen on), found by binding port 0.
enum FreePort {
    static func find(host: String = "127.0.0.1") throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AgentError.io("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw AgentError.io("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
