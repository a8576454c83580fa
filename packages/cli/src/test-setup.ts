// The onednn backend, where its addon was built (it registers itself on import).
import '@adl/onednn';
