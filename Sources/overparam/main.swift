import Overparam
print("overparam")
