"""The retrain config file of `adl retrain` (@adl/search `RetrainConfigSchema`): the same fields and
defaults, read from the same JSON file; a test compares the defaults with the TypeScript schema's."""
import json
import os

# Field → default; None: optional, no default; REQUIRED: must be given.
REQUIRED = object()
DEFAULTS = {
    'dataRoot': REQUIRED,
    'outDir': REQUIRED,
    'architecture': REQUIRED,
    'filterMultiplier': None,
    'asppChannels': 256,
    'asppRates': None,
    'iterations': 500_000,
    'batchSize': 14,
    'crop': 769,
    'scale': [0.5, 2.0],
    'lr': 0.05,
    'power': 0.9,
    'momentum': 0.9,
    'weightDecay': 4e-5,
    'batchNormDecay': 0.9997,
    'batchNormEpsilon': 1e-3,
    'dropPathKeepProb': 1,
    'recompute': True,
    'numClasses': 19,
    'evalEvery': 5000,
    'valImages': 0,
    'checkpointEvery': 1000,
    'keepCheckpoints': 3,
    'seed': 0,
    'backend': 'auto',
    'onBadFile': 'stop',
}

POSITIVE_INTS = ('filterMultiplier', 'asppChannels', 'iterations', 'batchSize', 'crop', 'numClasses', 'evalEvery', 'checkpointEvery', 'keepCheckpoints')


class ConfigError(ValueError):
    pass


def parse_retrain_config(data, source='retrain config'):
    """The config with defaults filled in; unknown or missing fields and bad values are refused by name."""
    if not isinstance(data, dict):
        raise ConfigError(f'{source}: expected a JSON object')
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f'{source}: unknown field(s) {", ".join(unknown)}')
    config = {}
    for field, default in DEFAULTS.items():
        if field in data:
            config[field] = data[field]
        elif default is REQUIRED:
            raise ConfigError(f'{source}: {field} is required')
        elif default is not None:
            config[field] = default
    for field in POSITIVE_INTS:
        value = config.get(field)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise ConfigError(f'{source}: {field} must be a positive integer, got {json.dumps(value)}')
    for field in ('valImages', 'seed'):
        if not (isinstance(config[field], int) and config[field] >= 0):
            raise ConfigError(f'{source}: {field} must be a non-negative integer, got {json.dumps(config[field])}')
    if not 0 < config['dropPathKeepProb'] <= 1:
        raise ConfigError(f'{source}: dropPathKeepProb must be in (0, 1], got {config["dropPathKeepProb"]}')
    return config


def read_retrain_config(path):
    try:
        with open(path, encoding='utf-8-sig') as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f'{path}: not found') from None
    except json.JSONDecodeError as error:
        raise ConfigError(f'{path}: not valid JSON ({error})') from None
    return parse_retrain_config(data, path)


PRESETS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'presets.json')


def resolve_architecture(reference):
    """A preset name (autodeeplab-s|m|l) or an architecture file written by `adl decode` / `adl search`."""
    with open(PRESETS_FILE) as f:
        presets = json.load(f)
    if reference in presets:
        return presets[reference]
    try:
        with open(reference, encoding='utf-8-sig') as f:
            return json.load(f)
    except FileNotFoundError:
        where = '' if os.path.isabs(reference) else f' (relative paths are taken from the current folder, {os.getcwd()})'
        raise ConfigError(f'{reference}: not found: neither a preset ({", ".join(presets)}) nor an existing architecture file{where}') from None
