# Entry point on the board (and `micropython main.py --dev DIR ...` on the unix port).
import app

app.main()
