"""CartPole with a fault injected on demand, for the fault-tolerance tests.

``asyncrl train --env faulty_env:FaultyCartPole-v0`` imports this module (Gymnasium's
``module:EnvId`` syntax; the tests put this directory on PYTHONPATH) in every learner process.
Which fault, from the environment variables the learners inherit:

    ASYNCRL_FAULT=raise_once     the first learner to reach step 200 raises, later ones do not
    ASYNCRL_FAULT=raise_always   every learner raises at step 50 of its life
    ASYNCRL_FAULT=nan_once       one step, once per run, returns a NaN reward
    ASYNCRL_FAULT=slow           from step 100 of a learner's life on, every step takes a second
    ASYNCRL_FAULT=hang_once      the first learner to reach step 300 hangs (alive, never returns)

"Once per run" is a marker file, ASYNCRL_FAULT_MARKER, created when the fault fires.
"""

import os
import time

import gymnasium as gym
from gymnasium.envs.classic_control import CartPoleEnv


class FaultyCartPole(CartPoleEnv):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fault = os.environ.get("ASYNCRL_FAULT", "")
        self.marker = os.environ.get("ASYNCRL_FAULT_MARKER", "")
        self.steps = 0

    def _fire_once(self) -> bool:
        try:
            with open(self.marker, "x"):
                return True
        except FileExistsError:
            return False

    def step(self, action):
        self.steps += 1
        if self.fault == "slow" and self.steps >= 100:
            time.sleep(1.0)
        if self.fault == "hang_once" and self.steps >= 300 and self._fire_once():
            while True:  # a deadlock, as far as the trainer can tell: alive, and no step ever ends
                time.sleep(3600)
        obs, reward, terminated, truncated, info = super().step(action)
        if self.fault == "raise_always" and self.steps >= 50:
            raise RuntimeError("injected fault in the environment")
        if self.fault == "raise_once" and self.steps >= 200 and self._fire_once():
            raise RuntimeError("injected fault in the environment")
        if self.fault == "nan_once" and self.steps >= 200 and self._fire_once():
            reward = float("nan")
        return obs, reward, terminated, truncated, info


gym.register("FaultyCartPole-v0", entry_point=FaultyCartPole, max_episode_steps=500)
