// # placeholder
import NotebookSupport

cell("x")
print(1)
