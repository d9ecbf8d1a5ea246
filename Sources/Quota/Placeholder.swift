/// The Quota module: its domain arrives with a later issue; the target exists now so the import direction is fixed.
public enum QuotaModule {
    /// The module's name, for diagnostics.
    public static let name = "Quota"
}
