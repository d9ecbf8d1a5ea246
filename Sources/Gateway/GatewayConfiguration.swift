/// The gateway's settings, taken from the controller's configuration by the composition root.
public struct GatewayConfiguration: Sendable {
    /// Where router traces are written (hourly segments).
    public var tracesDirectory: String
    /// The largest inference request body accepted.
    public var maxBodyBytes: Int
    /// Traces older than this are pruned.
    public var traceRetentionDays: Double
    /// How often the trace janitor runs.
    public var traceJanitorInterval: Duration
    /// A hot-swap's new instance must be ready within this.
    public var swapLoadTimeout: Duration
    /// Each health-check prompt of a hot-swap must answer within this, ms.
    public var swapHealthBudgetMillis: Double
    /// How long the old instance of a swap may take to drain its requests.
    public var swapDrainTimeout: Duration

    public init(tracesDirectory: String, maxBodyBytes: Int, traceRetentionDays: Double, traceJanitorInterval: Duration,
                swapLoadTimeout: Duration, swapHealthBudgetMillis: Double, swapDrainTimeout: Duration = .seconds(300)) {
        self.tracesDirectory = tracesDirectory
        self.maxBodyBytes = maxBodyBytes
        self.traceRetentionDays = traceRetentionDays
        self.traceJanitorInterval = traceJanitorInterval
        self.swapLoadTimeout = swapLoadTimeout
        self.swapHealthBudgetMillis = swapHealthBudgetMillis
        self.swapDrainTimeout = swapDrainTimeout
    }
}
