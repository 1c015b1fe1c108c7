from .base import *
from .base import env

DEBUG = env.bool("DEBUG", default=True)
